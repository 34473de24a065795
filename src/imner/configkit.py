"""The config kit: one way to read a config file, check its keys, check its numbers, and turn a table into the
typed parameters of a constructor.

* :func:`read_toml` / :func:`read_json`: the parsed file. A missing file, or one that does not parse, raises
  :class:`~imner.errors.ConfigError` naming the file (and for a syntax error the line and column).
* :func:`check_keys`: unknown keys raise :class:`~imner.errors.ConfigError` listing them and every allowed key;
  missing required keys are named too.
* :func:`check_int` / :func:`check_number`: a number in its range (never a bool), else an error naming the
  parameter and the range.
* Typed parameters: :func:`params_of` is a frozen dataclass of a class's constructor parameters, built from the
  constructor's signature, the one place their names, types and defaults are written. :func:`init_config` reads
  an object's current values of them back (what a tagger saves to ``config.json``); :func:`checked_params`
  checks a table (a saved ``config.json``, a TOML ``[model.params]``) against them: unknown keys listed with what
  is allowed, values of the wrong type named, and returns the keyword arguments.
* :func:`read_saved_config`: a model directory's ``config.json`` without its ``"tagger"`` key.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Iterable

from imner.errors import ConfigError, ModelNotFoundError

CONFIG_FILE = "config.json"


# ---------------------------------------------------------------------------------------------- files

def _read(path: str | Path, what: str, parse: Any) -> Any:
    """``parse(text)`` of the UTF-8 file ``path``; ConfigError naming the file when it is missing or not UTF-8."""
    path = Path(path)
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})") from None


def read_toml(path: str | Path, what: str = "config") -> dict[str, Any]:
    """The parsed TOML file ``path``; ``what`` names the kind of file in the error when it does not exist."""
    try:
        return _read(path, what, tomllib.loads)
    except tomllib.TOMLDecodeError as e:  # its message ends "(at line L, column C)"
        raise ConfigError(f"{path}: invalid TOML: {e}") from None


def read_json(path: str | Path, what: str = "JSON") -> Any:
    """The parsed JSON file ``path``; ``what`` names the kind of file in the error when it does not exist."""
    try:
        return _read(path, what, json.loads)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}: not valid JSON: {e.msg} (column {e.colno})") from None


def read_saved_config(directory: str | Path, missing: str | None = None) -> tuple[Path, dict[str, Any]]:
    """``(path, content)`` of ``directory/config.json`` with the ``"tagger"`` key removed.
    :class:`ModelNotFoundError` (message ``missing``, or a default one) when there is no such file."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ModelNotFoundError(missing or f"{directory} is not a model directory (no {CONFIG_FILE})")
    cfg = read_json(path, "model config")
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: a model config is a JSON object, got {type(cfg).__name__}")
    cfg.pop("tagger", None)
    return path, cfg


# ---------------------------------------------------------------------------------------------- keys and numbers

def check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str, *, section: str = "",
               owner: str = "", required: Iterable[str] = ()) -> None:
    """:class:`ConfigError` unless every key of ``table`` is ``allowed`` and every ``required`` key is there.

    ``where`` starts the message (the file, and which table when ``section`` does not say it); unknown keys are
    named as ``section.key`` and followed by ``owner`` (e.g. ``" for tagger 'crf.v1'"``), then the allowed keys:
    ``c.toml: unknown key 'data.train[0].splt'; allowed in [data.train[0]]: corpus, split, limit``."""
    allowed = list(allowed)
    unknown = [f"{section}.{k}" if section else str(k) for k in table if k not in allowed]
    if unknown:
        scope = f" in [{section}]" if section and not owner else ""
        raise ConfigError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
                          f"{owner}; allowed{scope}: {', '.join(allowed)}")
    missing = [k for k in required if k not in table]
    if missing:
        raise ConfigError(f"{where}: {'[' + section + '] ' if section else ''}needs {', '.join(map(repr, missing))}")


def check_int(value: Any, name: str, low: int | None = 1, high: int | None = None) -> int:
    """``value`` when it is an integer (not a bool) from ``low`` to ``high`` (None: no bound)."""
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low) or (
            high is not None and value > high):
        what = ("an integer" if low is None and high is None else f"an integer <= {high}" if low is None
                else "a positive integer" if low == 1 and high is None
                else f"an integer >= {low}" if high is None else f"an integer from {low} to {high}")
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    return value


def check_number(value: Any, name: str, low: float, high: float | None = None) -> float:
    """``float(value)`` when it is a number (not a bool) from ``low`` to ``high`` (None: no upper bound)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (
            high is not None and value > high):
        rng = f">= {low}" if high is None else f"from {low} to {high}"
        raise ConfigError(f"{name} must be a number {rng}, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------------------- typed parameters

@functools.cache
def params_of(cls: type) -> type:
    """A frozen dataclass ``<Class>Params`` with one field per keyword parameter of ``cls.__init__`` (its type
    and default as the signature gives them; a parameter without a default is a required field)."""
    sig = inspect.signature(cls.__init__)
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that names something not importable here: no type checks then
        hints = {}
    fields = []
    for name, p in sig.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        hint = hints.get(name, Any)
        if p.default is p.empty:
            fields.append((name, hint))
        else:
            fields.append((name, hint, dataclasses.field(default=p.default)))
    fields.sort(key=lambda f: len(f) == 3)  # required fields first, as dataclasses want
    return dataclasses.make_dataclass(f"{cls.__name__}Params", fields, frozen=True)


def param_names(cls: type) -> list[str]:
    """The constructor parameters of ``cls`` in signature order."""
    sig = inspect.signature(cls.__init__)
    return [n for n, p in sig.parameters.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def init_config(obj: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The current value of each constructor parameter of ``obj``'s class (read from the attribute of the same
    name), except ``exclude``: what a tagger saves so that ``cls(**config)`` rebuilds it."""
    skip = set(exclude)
    return {n: getattr(obj, n) for n in param_names(type(obj)) if n not in skip}


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a config value (TOML/JSON types) fits the annotation ``hint``; unknown kinds of hint accept."""
    if hint is Any or hint is None:
        return hint is Any or value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is Path:
        return isinstance(value, (str, Path))
    origin = origin or hint
    if isinstance(origin, type):
        if issubclass(origin, (str, bytes)):
            return isinstance(value, origin)
        if issubclass(origin, Mapping) or origin is dict:
            return isinstance(value, Mapping)
        if issubclass(origin, Sequence) or origin in (list, tuple):
            return isinstance(value, (list, tuple))
        return isinstance(value, origin)
    return True


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def checked_params(cls: type, table: Mapping[str, Any], where: str, *, section: str = "", owner: str = "",
                   exclude: Iterable[str] = ()) -> dict[str, Any]:
    """``table`` as keyword arguments of ``cls``: :class:`ConfigError` (worded by :func:`check_keys`) for a key
    that is not a constructor parameter (the error lists those that are, less ``exclude``) or a value of the
    wrong type (the error names the parameter and its type)."""
    fields = {f.name: f for f in dataclasses.fields(params_of(cls))}
    skip = set(exclude)
    check_keys(table, [n for n in param_names(cls) if n not in skip], where, section=section, owner=owner)
    for key, value in table.items():
        hint = fields[key].type
        if not isinstance(hint, str) and not _conforms(value, hint):
            name = f"{section}.{key}" if section else key
            raise ConfigError(f"{where}: {name} must be {_type_name(hint)}, got {value!r}")
    return dict(table)
