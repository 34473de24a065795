"""Run an exported transformer tagger with onnxruntime (``onnx.v1``): numpy, tokenizers and onnxruntime
only, no torch or transformers.

A model directory (written by :func:`imner.taggers.transformer.export.export_onnx`) holds ``config.json``
(``"tagger": "onnx.v1"``, labels, window plan, special token ids, model file name), the ONNX model
(``model.int8.onnx`` and/or ``model.onnx``) and ``tokenizer.json``. Tokenization, windowing and
constrained BIO decoding are the same code as ``transformer.v1`` (:mod:`imner.taggers.transformer.windows`), so an
fp32 export predicts the same spans as the torch model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from imner.errors import ConfigError, ModelNotFoundError
from imner.taggers.transformer import windows as W
from imner.taggers._exported import ExportedTagger, check_positive
from imner.taggers.base import read_config
from imner.types import Document, Span

TOKENIZER_FILE = "tokenizer.json"


class OnnxTagger(ExportedTagger):
    """Token classification with an ONNX model.

    ``model_dir``: an exported model directory; ``threads``: onnxruntime intra-op threads (default 2);
    ``batch_size``: windows per run (sorted by length, so a batch pads little; 16 peaks at ~540 MB RSS with
    MiniLM-L6, 32 at ~700 MB and is no faster on 2 threads); ``model_file``: which
    ONNX file of the directory to run (default: the one its config names, the int8 model after a
    quantized export)."""

    name = "onnx.v1"
    made_by = "train transformer.v1 and export it with imner.taggers.transformer.export.export_onnx"
    # no memory arena: it keeps the largest batch's buffers for the life of the session (~200 MB more RSS)
    mem_arena = False

    def __init__(self, model_dir: str | Path, threads: int = 2, batch_size: int = 16,
                 model_file: str | None = None) -> None:
        for key, value in (("threads", threads), ("batch_size", batch_size)):
            check_positive("onnx", key, value)
        self.model_dir = Path(model_dir)
        cfg_path, cfg = read_config(self.model_dir, f"{self.model_dir} is not an onnx.v1 model directory (no "
                                    "config.json); export a trained transformer.v1 model with "
                                    "imner.taggers.transformer.export.export_onnx")
        for key in ("labels", "window", "stride", "model_file", "specials"):
            if key not in cfg:
                raise ConfigError(f"{cfg_path}: missing the {key!r} key (written by export_onnx)")
        self.threads, self.batch_size = threads, batch_size
        self.labels = tuple(cfg["labels"])
        self.specials = W.SpecialTokens.from_dict(cfg["specials"])
        self.window, self.stride = W.check_window(cfg["window"], cfg["stride"], self.specials.count)
        self.model_file = model_file or cfg["model_file"]
        self._extra = {k: v for k, v in cfg.items() if k in ("opset", "source")}
        self._decoder = W.Decoder(self.labels)
        self._tokenizer = self._load_tokenizer()
        self._session = self._load_session()
        self._inputs = {i.name for i in self._session.get_inputs()}
        unknown = self._inputs - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise ConfigError(f"{self.model_dir / self.model_file}: unexpected model inputs {sorted(unknown)}; "
                              "allowed: input_ids, attention_mask, token_type_ids")

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        path = self.model_dir / TOKENIZER_FILE
        if not path.is_file():
            raise ModelNotFoundError(f"{path} is missing: an onnx.v1 model directory holds {TOKENIZER_FILE}")
        return W.prepare_tokenizer(Tokenizer.from_file(str(path)))

    # ------------------------------------------------------------------ persistence

    def config(self) -> dict[str, Any]:
        return {"window": self.window, "stride": self.stride, "model_file": self.model_file,
                "specials": self.specials.to_dict(), **self._extra}

    def model_files(self) -> list[str]:
        return [self.model_file, TOKENIZER_FILE]

    # ------------------------------------------------------------------ inference

    def _run_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        return self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        return W.predict_spans([d.text for d in docs], self._tokenizer, self.specials, self.window, self.stride,
                               self._decoder, self._run_batch, self.batch_size)


__all__ = ["OnnxTagger"]
