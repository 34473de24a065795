"""``transformer.v1`` (torch + transformers, :mod:`.tagger`) and ``onnx.v1`` (onnxruntime, :mod:`.onnx`).

:mod:`.windows` holds the overlapping windows and constrained BIO decoding both share (numpy + tokenizers only);
:mod:`.export` writes a trained ``transformer.v1`` as an ``onnx.v1`` model. Nothing is imported here, so
``imner.taggers.transformer.onnx`` loads without torch."""
