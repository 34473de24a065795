"""What the taggers that run exported (ONNX) models share: saving copies the model's files, loading is the
constructor, and there is nothing to train."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

from imner.configkit import check_int
from imner.errors import ConfigError, ModelError, ModelNotFoundError
from imner.taggers.base import Tagger


def check_positive(tagger: str, key: str, value: Any) -> int:
    return check_int(value, f"{tagger} {key}")


class ExportedTagger(Tagger):
    """Base of ``onnx.v1`` and ``bilstm-onnx.v1``. Subclasses set ``model_dir`` and list what a copy needs."""

    model_dir: Path
    model_file: str
    threads: int
    #: how to make such a model, for the error :meth:`fit` raises
    made_by: ClassVar[str] = ""
    #: onnxruntime's CPU memory arena (faster reuse, but keeps the largest batch's buffers)
    mem_arena: ClassVar[bool] = True

    def _load_session(self) -> Any:
        """The onnxruntime session for ``model_dir / model_file`` on ``threads`` intra-op threads."""
        import onnxruntime as ort

        path = self.model_dir / self.model_file
        if not path.is_file():
            here = sorted(p.name for p in self.model_dir.iterdir()) if self.model_dir.is_dir() else []
            onnx = [n for n in here if n.endswith(".onnx")]
            raise ModelNotFoundError(f"{path} is missing; ONNX files here: {', '.join(onnx) or 'none'} "
                                     f"(all files: {', '.join(here) or 'none'})")
        if path.stat().st_size == 0:
            raise ModelError(f"{path} is empty (0 bytes): the model file is damaged; export the model again")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_cpu_mem_arena = self.mem_arena
        # Idle intra-op threads sleep instead of spinning: on a shared or loaded machine spinning threads burn the
        # cores the other threads (and processes) need; the 20 first MACCROBAT reports took half the wall time and
        # a third less CPU without it, with the same output (benchmarks/speed.py measures it).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # every batch has its own shape (sentences bucketed by length): a memory pattern per shape only grows RSS
        opts.enable_mem_pattern = False
        try:
            return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, ...)
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{path} is damaged or not an ONNX model ({first}); export the model again") from None

    def model_files(self) -> list[str]:
        """Files (relative to ``model_dir``) that :meth:`save` copies besides config.json."""
        return []

    def model_dirs(self) -> list[str]:
        """Folders (relative to ``model_dir``) that :meth:`save` copies."""
        return []

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if directory.resolve() != self.model_dir.resolve():
            for name in self.model_files():
                shutil.copyfile(self.model_dir / name, directory / name)
            for name in self.model_dirs():
                if (directory / name).exists():
                    shutil.rmtree(directory / name)
                shutil.copytree(self.model_dir / name, directory / name)
        return super().save(directory)

    @classmethod
    def load(cls, directory: str | Path, **overrides: Any) -> "ExportedTagger":
        return cls(directory, **overrides)

    def fit(self, train: Any, dev: Any = None) -> "ExportedTagger":
        raise ConfigError(f"{self.name} runs exported models and cannot be trained: {self.made_by}")
