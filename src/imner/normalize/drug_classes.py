"""Drug classes from curated rules (``resources/drug_classes.json``).

The rule file is JSON: ``{"format": "imner-drug-classes", "version": 1, "rules": [...]}``; each rule is an
object with the keys

* ``drug_class`` (required): the class written to the span attr ``drug_class``;
* ``names``: drug names (normalized with :func:`imner.lexicon.normalize_term` when loaded, so
  ``"Solu-Medrol"`` and ``"solu medrol"`` are the same name);
* ``suffixes`` / ``prefixes``: word endings / beginnings (``"cillin"``, ``"cef"``), matched against each word of
  the normalized name;
* ``pattern``: a Python regular expression searched in the normalized name;
* ``note``: free text, ignored.

A rule needs at least one of ``names``, ``suffixes``, ``prefixes``, ``pattern``. Unknown keys, wrong types and
bad regular expressions are reported with the file and the rule's index.

Matching (:meth:`DrugClassRules.classify`): every name rule first, in file order (exact normalized name); then
the affix and pattern rules, in file order; the first match wins. So listed exceptions (``metronidazole``,
``omeprazole``) come before the suffix rules (``-azole``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from imner.config import RESOURCES
from imner.configkit import check_keys, read_json
from imner.errors import ConfigError
from imner.lexicon.normalize import normalize_term

__all__ = ["DEFAULT_DRUG_CLASSES_PATH", "DrugClassRule", "DrugClassRules", "load_drug_class_rules"]

DEFAULT_DRUG_CLASSES_PATH: Path = RESOURCES / "drug_classes.json"
FORMAT = "imner-drug-classes"
_MISSING = object()
RULE_KEYS: tuple[str, ...] = ("drug_class", "names", "suffixes", "prefixes", "pattern", "note")


@dataclass(frozen=True, slots=True)
class DrugClassRule:
    drug_class: str
    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def affix_match(self, key: str) -> bool:
        """Whether a word of the normalized name ``key`` has one of the affixes, or the pattern matches."""
        words = key.split()
        if any(w.endswith(s) and len(w) > len(s) for w in words for s in self.suffixes):
            return True
        if any(w.startswith(p) and len(w) > len(p) + 2 for w in words for p in self.prefixes):
            return True
        return bool(self.pattern is not None and self.pattern.search(key))


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key!r} must be a list of non-empty strings, got {value!r}")
    return tuple(v.strip().lower() for v in value)


def rule_from_dict(d: Mapping[str, Any], *, source: str = "<rules>", index: int = 0) -> DrugClassRule:
    """One rule, validated (see the module docstring for the keys)."""
    where = f"{source}: rule {index}"
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where}: a rule must be a JSON object, got {type(d).__name__}")
    check_keys(d, RULE_KEYS, where)
    dc = d.get("drug_class")
    if not isinstance(dc, str) or not dc.strip():
        raise ConfigError(f"{where}: 'drug_class' (a non-empty string) is required")
    if not any(k in d for k in ("names", "suffixes", "prefixes", "pattern")):
        raise ConfigError(f"{where}: give at least one of 'names', 'suffixes', 'prefixes', 'pattern'")
    names = frozenset(k for k in (normalize_term(n) for n in _strings(d["names"], "names", where)) if k) \
        if "names" in d else frozenset()
    suffixes = _strings(d["suffixes"], "suffixes", where) if "suffixes" in d else ()
    prefixes = _strings(d["prefixes"], "prefixes", where) if "prefixes" in d else ()
    pattern = None
    if "pattern" in d:
        if not isinstance(d["pattern"], str):
            raise ConfigError(f"{where}: 'pattern' must be a string")
        try:
            pattern = re.compile(d["pattern"])
        except re.error as e:
            raise ConfigError(f"{where}: bad regular expression {d['pattern']!r}: {e}") from e
    if "note" in d and not isinstance(d["note"], str):
        raise ConfigError(f"{where}: 'note' must be a string")
    return DrugClassRule(dc.strip(), names, suffixes, prefixes, pattern)


class DrugClassRules:
    """Ordered drug-class rules; :meth:`classify` gives the class of a drug name (or None)."""

    def __init__(self, rules: Iterable[DrugClassRule]) -> None:
        self.rules = tuple(rules)
        self._by_name: dict[str, str] = {}
        for r in self.rules:
            for n in r.names:
                self._by_name.setdefault(n, r.drug_class)
        self._affix = tuple(r for r in self.rules if r.suffixes or r.prefixes or r.pattern is not None)
        self._cache: dict[tuple[str | None, ...], str | None] = {}

    def classify(self, *names: str | None) -> str | None:
        """The class of the first of ``names`` that a rule knows: each name by the name rules, then each name by
        the affix/pattern rules (names are normalized here; results are cached)."""
        hit = self._cache.get(names, _MISSING)
        if hit is _MISSING:
            if len(self._cache) > 100_000:
                self._cache.clear()
            hit = self._cache[names] = self._classify(names)
        return hit  # type: ignore[return-value]

    def _classify(self, names: tuple[str | None, ...]) -> str | None:
        keys = [k for k in (normalize_term(n) for n in names if n) if k]
        for k in keys:
            hit = self._by_name.get(k)
            if hit is not None:
                return hit
        for k in keys:
            for r in self._affix:
                if r.affix_match(k):
                    return r.drug_class
        return None

    @property
    def classes(self) -> list[str]:
        return sorted({r.drug_class for r in self.rules})


def load_drug_class_rules(path: str | Path | None = None) -> DrugClassRules:
    """Read and validate a rule file (default: the packaged ``resources/drug_classes.json``)."""
    p = Path(path) if path is not None else DEFAULT_DRUG_CLASSES_PATH
    data = read_json(p, "drug-class rule")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{p}: not a drug-class rule file (expected an object with \"format\": {FORMAT!r})")
    if data.get("version") != 1:
        raise ConfigError(f"{p}: version {data.get('version')!r}; this imner reads version 1")
    check_keys(data, ("format", "version", "note", "rules"), str(p))
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise ConfigError(f"{p}: 'rules' must be a non-empty list")
    return DrugClassRules(rule_from_dict(r, source=str(p), index=i) for i, r in enumerate(rules))
