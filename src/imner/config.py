"""Where things live: the shared data directory and the packaged resources."""

from __future__ import annotations

import os
from pathlib import Path

from imner.errors import DataNotFoundError

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES = PACKAGE_DIR / "resources"
#: repository root when running from a checkout (src layout); None when installed elsewhere
REPO_ROOT = PACKAGE_DIR.parent.parent if (PACKAGE_DIR.parent.parent / "pyproject.toml").exists() else None


def data_dir() -> Path:
    """The corpora and lexicons directory: ``$IMNER_DATA``, else ``../shared/data`` beside the checkout
    (or beside the current directory)."""
    env = os.environ.get("IMNER_DATA")
    if env:
        return Path(env).expanduser()
    candidates = []
    if REPO_ROOT is not None:
        candidates.append(REPO_ROOT.parent / "shared" / "data")
    candidates.append(Path.cwd().parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def data_path(*parts: str) -> Path:
    """A path under :func:`data_dir`, with an error that says how to point imner at the data."""
    p = data_dir().joinpath(*parts)
    if not p.exists():
        raise DataNotFoundError(
            f"{p} not found. imner reads corpora and lexicons from $IMNER_DATA "
            f"(now {os.environ.get('IMNER_DATA', 'unset')}; default ../shared/data beside the checkout). "
            "Set IMNER_DATA to the folder that holds maccrobat/, ncbi_disease/, lexicons/ ...")
    return p
