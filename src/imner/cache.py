"""A small on-disk cache of compiled artefacts (e.g. the lexicon matcher's tables), so start-up does not redo them.

Where: ``$IMNER_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/imner``, else ``~/.cache/imner``; ``IMNER_CACHE_DIR=off``
turns the cache off. Entries are :mod:`marshal` files named by a key that hashes everything they were built from
(the source file's sha256, the settings, the Python version and a format version), so a changed lexicon or setting
never reads a stale entry. Writes go to a temporary file renamed into place (safe with several processes); a cache
that cannot be written or read is skipped silently: the artefact is then simply built again.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


def cache_dir() -> Path | None:
    """The cache folder (not created), or None when the cache is off."""
    env = os.environ.get("IMNER_CACHE_DIR")
    if env:
        return None if env.lower() in ("off", "0", "none", "false") else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "imner"


def cache_key(kind: str, *parts: Any) -> str:
    """A file-name-safe key of ``kind`` and ``parts`` (their ``repr``), Python version and format version."""
    h = hashlib.sha256(repr((FORMAT_VERSION, sys.version_info[:2], kind, parts)).encode("utf-8")).hexdigest()
    return f"{kind}-{h[:24]}"


_SOURCES: dict[str, str] = {}


def source_hash(*modules: str) -> str:
    """A short hash of the source files of ``modules`` (dotted names; their code builds a cached artefact), so that a
    changed algorithm, and not only changed data, gives a new key. Read once per process; a module whose file
    cannot be read counts by the installed imner's version instead."""
    out = []
    for name in modules:
        h = _SOURCES.get(name)
        if h is None:
            import importlib.util

            try:
                spec = importlib.util.find_spec(name)
                h = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:16]  # type: ignore[union-attr, arg-type]
            except (OSError, TypeError, AttributeError, ImportError, ValueError):
                from importlib.metadata import PackageNotFoundError, version

                try:
                    h = version("imner")
                except PackageNotFoundError:
                    h = "unknown"
            _SOURCES[name] = h
        out.append(h)
    return ",".join(out)


def load(key: str) -> Any | None:
    """The cached value of ``key``, or None."""
    d = cache_dir()
    if d is None:
        return None
    try:
        data = (d / f"{key}.marshal").read_bytes()  # marshal.load on a file object reads in small pieces: slow
        return marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def store(key: str, value: Any) -> bool:
    """Cache ``value`` (marshal-able: dicts, tuples, lists, str, int, float, frozensets) under ``key``."""
    d = cache_dir()
    if d is None:
        return False
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=d)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(marshal.dumps(value))
            os.replace(tmp, d / f"{key}.marshal")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return True
    except (OSError, ValueError):
        return False
