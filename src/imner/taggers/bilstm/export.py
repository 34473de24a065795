"""Export a trained ``bilstm.v1`` model to a ``bilstm-onnx.v1`` model directory (needs the ``train`` extra).

:func:`export_bilstm_onnx` writes what :class:`imner.taggers.bilstm.onnx.BiLSTMOnnxTagger` runs on
onnxruntime and NumPy only:

* ``model.onnx``: the network up to the emission scores, traced with ``torch.onnx.export`` (TorchScript
  exporter, ``dynamo=False``, opset 17). Inputs ``words``, ``chars``, ``case``, ``lex`` (int64; ``(batch,
  sequence)``, ``chars`` ``(batch, sequence, characters)``, all three axes dynamic; the tagger feeds
  the inputs the graph lists), output ``emissions`` ``(batch, sequence, tags)``; padding is id 0 and the
  mask is ``words != 0``. The bidirectional LSTM is exported as two unidirectional LSTMs with the same
  weights, the backward one fed each sentence reversed within its own length: the same numbers as
  ``bilstm.v1``'s packed LSTM, in a graph whose results do not depend on the batch's padding (the
  exporter's packed-sequence path does not give ``bilstm.v1``'s emissions).
* ``model.int8.onnx`` with ``quantize=True``: onnxruntime dynamic int8 quantization of that graph.
* ``crf.npz``: ``transitions`` ``(T, T)`` [from, to] and ``start`` ``(T,)`` with the BIO penalties of
  :mod:`imner.taggers.bilstm.torch_crf` added exactly as ``CRF._scores`` adds them (float32), ``end`` ``(T,)``,
  and the penalties alone (``trans_penalty``, ``start_penalty``) for reference.
* ``vocab.json`` (words, characters, lexicon tags) and ``lexicon/`` (the dictionary tagger, run by core
  imner) as in the ``bilstm.v1`` directory.
* ``config.json``: ``"tagger": "bilstm-onnx.v1"``, the labels and BIO tags, the file names, the
  preprocessing (word normalization, casing function, ``max_word_chars``, sentence splitter) and where the
  model came from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from imner.errors import ConfigError
from imner.taggers.bilstm.features import CASING, PAD, SENTENCES, WORD_NORMALIZATION
from imner.taggers.transformer.export import FP32_FILE, INT8_FILE, quantize_model

CRF_FILE = "crf.npz"
VOCAB_FILE = "vocab.json"
LEXICON_DIR = "lexicon"


def _emissions_module(net: Any) -> Any:
    """A module computing ``net.emissions`` (eval mode) from ``(words, chars, case, lex)`` in an ONNX-friendly
    way: no packed sequences, mask from ``words != PAD``."""
    import torch
    from torch import nn

    class Emissions(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            lstm = net.lstm
            if lstm.num_layers != 1 or not lstm.bidirectional or not lstm.batch_first:
                raise ConfigError("export_bilstm_onnx expects the one-layer, bidirectional, batch-first LSTM of "
                                  "bilstm.v1")
            self.fwd = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
            self.bwd = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(self.fwd, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0"))
                    getattr(self.bwd, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0_reverse"))

        def forward(self, words: Any, chars: Any, case: Any, lex: Any) -> Any:
            mask = words != PAD
            flat = chars.flatten(0, 1)                                    # (b*n, c)
            conv = net.char_cnn(net.char_emb(flat).transpose(1, 2))       # (b*n, filters, c)
            conv = conv.masked_fill(flat.unsqueeze(1) == PAD, -1e4)
            pooled = conv.max(dim=2).values.reshape(words.shape[0], words.shape[1], -1)
            pooled = torch.where(mask.unsqueeze(2), pooled, torch.zeros_like(pooled))
            parts = [net.word_emb(words), pooled]
            if net.case_emb is not None:
                parts.append(net.case_emb(case))
            if net.lex_emb is not None:
                parts.append(net.lex_emb(lex))
            x = torch.cat(parts, dim=2)
            # the backward direction reads each sentence reversed within its own length; padding stays put
            lengths = mask.sum(1, keepdim=True)
            pos = torch.arange(words.shape[1], device=words.device).unsqueeze(0)
            rev = torch.where(pos < lengths, lengths - 1 - pos, pos).unsqueeze(2)
            h_fwd, _ = self.fwd(x)
            h_bwd, _ = self.bwd(x.gather(1, rev.expand(-1, -1, x.shape[2])))
            h_bwd = h_bwd.gather(1, rev.expand(-1, -1, h_bwd.shape[2]))
            return net.out(torch.cat([h_fwd, h_bwd], dim=2))

    return Emissions().eval()


def _example_inputs() -> tuple[Any, ...]:
    """A small padded batch (two sentences of 4 and 2 tokens) to trace the graph with."""
    import torch

    words = torch.tensor([[2, 3, 4, 5], [6, 7, PAD, PAD]])
    chars = torch.full((2, 4, 5), 2, dtype=torch.long)
    chars[:, :, 3:] = PAD
    chars[1, 2:] = PAD
    case = torch.where(words != PAD, 3, PAD)
    lex = torch.where(words != PAD, 2, PAD)
    return words, chars, case, lex


def export_bilstm_onnx(model_dir: str | Path, out_dir: str | Path, quantize: bool = False,
                       keep_fp32: bool | None = None, opset: int = 17) -> Path:
    """Write a ``bilstm-onnx.v1`` directory ``out_dir`` (see the module doc) from the ``bilstm.v1`` model
    saved in ``model_dir``; returns ``out_dir``.

    With ``quantize`` the int8 model is the one the config points to; ``keep_fp32`` (default: only when
    not quantizing) keeps the float model beside it."""
    import torch

    from imner.taggers.bilstm.tagger import BiLSTMTagger
    from imner.taggers.bilstm.tagger import LEXICON_DIR as SRC_LEXICON_DIR
    from imner.taggers.bilstm.tagger import VOCAB_FILE as SRC_VOCAB_FILE

    if keep_fp32 is None:
        keep_fp32 = not quantize
    if not quantize and not keep_fp32:
        raise ConfigError("export_bilstm_onnx: with quantize=False the float model is the only output; keep_fp32 "
                          "must not be False")
    src = Path(model_dir)
    tagger = BiLSTMTagger.load(src)
    net = tagger._net.eval()
    module = _emissions_module(net)
    out = Path(out_dir)
    if out.exists() and out.resolve() == src.resolve():
        raise ConfigError(f"export_bilstm_onnx: out_dir {out} is the model directory itself; choose another")
    out.mkdir(parents=True, exist_ok=True)

    names = ["words", "chars"] + (["case"] if net.case_emb is not None else []) + (
        ["lex"] if net.lex_emb is not None else [])
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["chars"][2] = "characters"
    axes["emissions"] = {0: "batch", 1: "sequence"}
    fp32 = out / FP32_FILE
    with torch.no_grad():
        # inputs the graph does not use (case/lex when switched off) are left out of the exported model
        torch.onnx.export(module, _example_inputs(), str(fp32), dynamo=False, opset_version=opset,
                          input_names=["words", "chars", "case", "lex"], output_names=["emissions"],
                          dynamic_axes=axes)
        trans, start = net.crf._scores()
        np.savez(out / CRF_FILE, transitions=trans.float().numpy(), start=start.float().numpy(),
                 end=net.crf.end.float().numpy(), trans_penalty=net.crf.trans_penalty.float().numpy(),
                 start_penalty=net.crf.start_penalty.float().numpy())
    model_file = quantize_model(fp32, out, quantize, keep_fp32)
    shutil.copyfile(src / SRC_VOCAB_FILE, out / VOCAB_FILE)
    lexicon = None
    if tagger.lexicon_features:
        if (out / LEXICON_DIR).exists():
            shutil.rmtree(out / LEXICON_DIR)
        shutil.copytree(src / SRC_LEXICON_DIR, out / LEXICON_DIR)
        lexicon = LEXICON_DIR
    cfg = {"tagger": "bilstm-onnx.v1", "labels": list(tagger.labels), "tags": list(tagger.tags),
           "model_file": model_file, "crf_file": CRF_FILE, "vocab_file": VOCAB_FILE, "lexicon_dir": lexicon,
           "preprocessing": {"sentences": SENTENCES, "word_normalization": WORD_NORMALIZATION,
                             "casing": CASING, "max_word_chars": tagger.max_word_chars},
           "opset": opset,
           "source": {"tagger": tagger.name, "model_dir": str(src), "quantized": bool(quantize)}}
    (out / "config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from imner.integrity import write_checksums

    write_checksums(out)  # the manifest's sha256 of each file, checked on load
    return out


__all__ = ["CRF_FILE", "FP32_FILE", "INT8_FILE", "LEXICON_DIR", "VOCAB_FILE", "export_bilstm_onnx"]
