"""Model directories carry the sha256 of their files, checked on load.

A model directory's ``config.json`` (its manifest) may hold ``"sha256": {"relative/path": "<hex digest>", ...}``
for every other file in the directory. :func:`verify_model_dir` (called by
:func:`imner.taggers.base.load_tagger`) checks each one before anything is parsed, so a truncated download, a
half-copied folder or an edited weight file is a :class:`~imner.errors.ModelError` that names the damaged file,
not a traceback from deep inside onnxruntime or NumPy. :func:`write_checksums` writes the manifest entry (the
exporters call it; ``python -m imner.integrity DIR`` does it for a directory by hand).

Nothing here unpickles: model files are ONNX, ``.npz`` read with ``allow_pickle=False``, and JSON.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Mapping

from imner.errors import ConfigError, ModelError

KEY = "sha256"
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def checksums(directory: str | Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``directory`` except its top ``config.json``."""
    d = Path(directory)
    return {p.relative_to(d).as_posix(): file_sha256(p) for p in sorted(d.rglob("*"))
            if p.is_file() and p.relative_to(d).as_posix() != "config.json"}


def write_checksums(directory: str | Path) -> dict[str, str]:
    """Add (or replace) the ``sha256`` entry of ``directory/config.json``; returns it."""
    d = Path(directory)
    cfg_path = d / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg[KEY] = checksums(d)
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return cfg[KEY]


def verify_model_dir(directory: str | Path, cfg: Mapping[str, Any]) -> None:
    """Check the files listed under ``cfg["sha256"]`` (nothing to do when there is no such entry)."""
    sums = cfg.get(KEY)
    if sums is None:
        return
    d = Path(directory)
    if not isinstance(sums, Mapping):
        raise ConfigError(f"{d / 'config.json'}: {KEY!r} must be an object of file -> sha256 hex digest")
    for rel, want in sums.items():
        p = d / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ConfigError(f"{d / 'config.json'}: {KEY} lists {rel!r}, which is outside the model directory")
        if not p.is_file():
            raise ModelError(f"{p} is missing: the model directory's manifest (config.json) lists it; "
                             "reinstall imner or copy/export the model again")
        got = file_sha256(p)
        if got != want:
            raise ModelError(f"{p} is damaged ({p.stat().st_size} bytes, sha256 {got[:12]}... where the manifest "
                             f"config.json says {str(want)[:12]}...): reinstall imner or copy/export the model again")


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a maintenance helper
    for directory in (argv if argv is not None else sys.argv[1:]):
        n = len(write_checksums(directory))
        print(f"{directory}: sha256 of {n} files written to config.json")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
