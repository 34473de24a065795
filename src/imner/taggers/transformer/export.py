"""Export a trained ``transformer.v1`` model to an ``onnx.v1`` model directory (needs the ``train`` extra).

:func:`export_onnx` traces the model with ``torch.onnx.export`` (the TorchScript exporter,
``dynamo=False``, opset 17; the model's plain "eager" attention, which onnxruntime fuses better than
SDPA) with dynamic batch and sequence axes, optionally quantizes the weights to
int8 (onnxruntime dynamic quantization, per channel), copies ``tokenizer.json`` and writes a
``config.json`` that :class:`imner.taggers.transformer.onnx.OnnxTagger` reads. The result runs on onnxruntime,
numpy and tokenizers only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imner.errors import ConfigError

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"


def quantize_model(fp32: Path, out: Path, quantize: bool, keep_fp32: bool | None) -> str:
    """int8 dynamic quantization (per channel) of ``fp32`` into ``out``; returns the file name the config should
    point to. The float model is removed unless ``keep_fp32``."""
    if not quantize:
        return FP32_FILE
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out / INT8_FILE), per_channel=True, weight_type=QuantType.QInt8)
    if not keep_fp32:
        fp32.unlink()
    return INT8_FILE


def export_onnx(model_dir: str | Path, out_dir: str | Path, quantize: bool = True, keep_fp32: bool | None = None,
                opset: int = 17) -> Path:
    """Write ``out_dir`` with ``model.onnx`` and/or ``model.int8.onnx``, ``tokenizer.json`` and ``config.json``.

    ``model_dir``: a saved ``transformer.v1`` model. With ``quantize`` the int8 model is the one the
    config points to; ``keep_fp32`` (default: only when not quantizing) keeps the float model beside it.
    """
    import torch

    from imner.taggers.transformer.tagger import TransformerTagger

    if keep_fp32 is None:
        keep_fp32 = not quantize
    if not quantize and not keep_fp32:
        raise ConfigError("export_onnx: with quantize=False the float model is the only output; keep_fp32 must "
                          "not be False")
    tagger = TransformerTagger.load(model_dir, device="cpu")
    model = tagger._model.eval()
    if hasattr(model, "set_attn_implementation"):
        # the plain attention graph: onnxruntime fuses it and its int8 model runs ~1.5x faster than the SDPA export
        model.set_attn_implementation("eager")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    import inspect

    use_tt = "token_type_ids" in inspect.signature(model.forward).parameters

    class _Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            kwargs = {"token_type_ids": torch.zeros_like(input_ids)} if use_tt else {}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **kwargs).logits

    assert tagger._specials is not None
    specials = tagger._specials
    ids = torch.full((2, 12), specials.unk_id, dtype=torch.long)
    mask = torch.ones((2, 12), dtype=torch.long)
    mask[1, 8:] = 0
    ids[1, 8:] = specials.pad_id
    fp32 = out / FP32_FILE
    with torch.no_grad():
        torch.onnx.export(_Logits(model), (ids, mask), str(fp32), dynamo=False, opset_version=opset,
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "logits": {0: "batch", 1: "sequence"}})
    model_file = quantize_model(fp32, out, quantize, keep_fp32)
    tagger._tokenizer.save(str(out / TOKENIZER_FILE))  # truncation and padding switched off
    cfg = {"tagger": "onnx.v1", "labels": list(tagger.labels), "window": tagger.window, "stride": tagger.stride,
           "model_file": model_file, "specials": specials.to_dict(), "opset": opset,
           "source": {"tagger": tagger.name, "model_path": tagger.model_path, "quantized": bool(quantize)}}
    (out / "config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from imner.integrity import write_checksums

    write_checksums(out)  # the manifest's sha256 of each file, checked on load
    return out


__all__ = ["export_onnx", "FP32_FILE", "INT8_FILE", "TOKENIZER_FILE"]
