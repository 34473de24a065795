"""``bilstm.v1`` (torch, :mod:`.tagger`) and ``bilstm-onnx.v1`` (onnxruntime + numpy, :mod:`.onnx`): the BiLSTM-CNN-Char-CRF family.

:mod:`.features` encodes tokens the same way for both; :mod:`.torch_crf` / :mod:`.numpy_crf` are its CRF layer in
torch (training) and numpy (inference); :mod:`.export` writes a trained ``bilstm.v1`` as an ``bilstm-onnx.v1`` model.
Nothing is imported here, so ``imner.taggers.bilstm.onnx`` loads without torch."""
