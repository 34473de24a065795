"""The rule schema of :mod:`imner.context` and its loading: one :class:`ContextRule` per JSON object.

The keys are modelled on medspaCy's ``ConTextRule`` (see the package docstring for what each means); an
unknown key, a wrong type or an invalid regular expression is a :class:`~imner.errors.ConfigError` naming the
file, the rule's index and what is allowed.

This module keeps its own small JSON reader and key check (``_read_json`` / ``_check_keys``): the shared
config kit of issue 9 was not on main when this package was written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from imner.config import RESOURCES
from imner.errors import ConfigError

#: boolean span attrs set by the annotator
FLAGS: tuple[str, ...] = ("negated", "uncertain", "hypothetical", "historical", "family")
#: the values of the ``experiencer`` attr ("patient" unless a rule or a section says otherwise)
EXPERIENCERS: tuple[str, ...] = ("patient", "family", "donor", "other")
#: every key the annotator writes on an asserted span (writers that need all keys on every record use this)
ASSERTION_KEYS: tuple[str, ...] = ("negated", "uncertain", "hypothetical", "historical", "experiencer", "family",
                                   "section")
#: rule category -> (span attr, value it sets)
CATEGORIES: dict[str, tuple[str, Any]] = {
    "NEGATED_EXISTENCE": ("negated", True),
    "POSSIBLE_EXISTENCE": ("uncertain", True),
    "HYPOTHETICAL": ("hypothetical", True),
    "HISTORICAL": ("historical", True),
    "FAMILY": ("experiencer", "family"),
    "DONOR": ("experiencer", "donor"),
    "OTHER_EXPERIENCER": ("experiencer", "other"),
}
#: kept for callers of the former module: category -> the attr it sets
CATEGORY_FLAGS: dict[str, str] = {c: attr for c, (attr, _) in CATEGORIES.items()}
DIRECTIONS: tuple[str, ...] = ("forward", "backward", "bidirectional", "terminate", "pseudo")
ALLOWED_KEYS: tuple[str, ...] = ("literal", "category", "direction", "pattern", "max_scope", "allowed_types",
                                 "excluded_types", "within_entity", "metadata")
DEFAULT_RULES_PATH: Path = RESOURCES / "context_rules.json"
#: what the matcher would work out from the packaged rules at start-up (lead words of the patterns, first
#: tokens of the literals), worked out beforehand: ``imner build context-index`` rewrites it
DEFAULT_INDEX_PATH: Path = RESOURCES / "context_rules.index.json"
#: what a space of a literal matches: any run of white space, or a hyphen with white space around it or not
LITERAL_SEPARATOR = r"(?:\s+|\s*-\s*)"


@dataclass(frozen=True, slots=True)
class ContextRule:
    """One trigger, termination or pseudo-trigger phrase (see the package docstring for the keys)."""

    literal: str
    direction: str
    category: str | None = None
    pattern: str | None = None
    max_scope: int | None = None
    allowed_types: frozenset[str] | None = None
    excluded_types: frozenset[str] | None = None
    within_entity: bool = True
    #: the span attr this rule sets or terminates (None: a pseudo rule without category, or a terminate-all
    #: rule); the three experiencer categories share the attr ``experiencer``. Derived from ``category``.
    flag: str | None = field(init=False, repr=False, compare=False, default=None)
    #: the value the rule gives its attr (True, or the experiencer). Derived from ``category``.
    value: Any = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        entry = CATEGORIES.get(self.category or "")
        if entry is not None:  # looked up once: the annotator reads them for every cue and entity
            object.__setattr__(self, "flag", entry[0])
            object.__setattr__(self, "value", entry[1])

    def regex(self) -> str:
        """The regular expression this rule matches (case-insensitive)."""
        if self.pattern is not None:
            return self.pattern
        parts = [re.escape(w) for w in self.literal.split()]
        body = LITERAL_SEPARATOR.join(parts)
        if re.match(r"\w", self.literal):
            body = r"(?<!\w)" + body
        if re.search(r"\w$", self.literal):
            body += r"(?!\w)"
        return body

    def applies_to(self, label: str) -> bool:
        if self.allowed_types is not None and label not in self.allowed_types:
            return False
        return not (self.excluded_types is not None and label in self.excluded_types)


# ---------------------------------------------------------------------------------------------- loading

def _read_json(path: Path, what: str) -> Any:
    """A JSON file's content; a missing file or bad JSON is a ConfigError naming the file and the line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}: not valid JSON: {e.msg}") from None


def _check_keys(d: Any, allowed: tuple[str, ...], where: str) -> None:
    """``d`` must be an object whose keys are all in ``allowed`` (the error lists them)."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where}: must be an object with keys {', '.join(allowed)}; got {type(d).__name__}")
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                          f"allowed keys: {', '.join(allowed)}")


def _rule_error(source: str, index: int, message: str) -> ConfigError:
    return ConfigError(f"{source}: rule {index}: {message}")


def _label_set(value: Any, key: str, source: str, index: int) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or \
            not all(isinstance(v, str) for v in value):
        raise _rule_error(source, index, f"{key!r} must be a list of label strings, got {value!r}")
    return frozenset(value)


def rule_from_dict(d: Mapping[str, Any], *, source: str = "<rules>", index: int = 0,
                   compile_pattern: bool = True) -> ContextRule:
    """Validate one rule object; errors name ``source``, the rule ``index`` and what is allowed.
    ``compile_pattern=False`` leaves out compiling ``pattern`` to check it (the packaged rules: a test checks
    them with it)."""
    _check_keys(d, ALLOWED_KEYS, f"{source}: rule {index}")
    literal = d.get("literal")
    if not isinstance(literal, str) or not literal.strip():
        raise _rule_error(source, index, f"'literal' is required and must be a non-empty string, got {literal!r}")
    direction = d.get("direction")
    if not isinstance(direction, str) or direction.lower() not in DIRECTIONS:
        raise _rule_error(source, index, f"'direction' must be one of {', '.join(DIRECTIONS)} "
                                         f"(any case), got {direction!r}")
    direction = direction.lower()
    category = d.get("category")
    if category is not None:
        if not isinstance(category, str):
            raise _rule_error(source, index, f"'category' must be a string, got {category!r}")
        category = category.upper()
    if direction in ("forward", "backward", "bidirectional") and category not in CATEGORIES:
        raise _rule_error(source, index, f"a {direction} rule needs 'category' in "
                                         f"{', '.join(CATEGORIES)}, got {category!r}")
    if direction == "pseudo" and category is not None and category not in CATEGORIES:
        raise _rule_error(source, index, f"a pseudo rule's 'category' (for entities inside the phrase) must be one "
                                         f"of {', '.join(CATEGORIES)}, got {category!r}")
    if direction == "terminate" and category is not None and category not in CATEGORIES \
            and category not in ("TERMINATE", "CONJ"):
        raise _rule_error(source, index, f"a terminate rule's 'category' limits it to one of "
                                         f"{', '.join(CATEGORIES)} (or TERMINATE/CONJ: all), got {category!r}")
    pattern = d.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise _rule_error(source, index, "'pattern' must be a regular expression string "
                                             f"(spaCy token patterns are not supported), got {type(pattern).__name__}")
        if compile_pattern:
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as e:
                raise _rule_error(source, index,
                                  f"'pattern' {pattern!r} is not a valid regular expression: {e}") from None
            if compiled.groupindex:
                raise _rule_error(source, index, f"'pattern' {pattern!r} must not use named groups")
            if compiled.match(""):
                raise _rule_error(source, index, f"'pattern' {pattern!r} matches the empty string")
    max_scope = d.get("max_scope")
    if max_scope is not None and (isinstance(max_scope, bool) or not isinstance(max_scope, int) or max_scope < 1):
        raise _rule_error(source, index, f"'max_scope' must be a positive integer (words), got {max_scope!r}")
    within = d.get("within_entity", True)
    if not isinstance(within, bool):
        raise _rule_error(source, index, f"'within_entity' must be true or false, got {within!r}")
    meta = d.get("metadata")
    if meta is not None and not isinstance(meta, Mapping):
        raise _rule_error(source, index, f"'metadata' must be an object, got {type(meta).__name__}")
    return ContextRule(literal=literal.strip(), direction=direction, category=category, pattern=pattern,
                       max_scope=max_scope, within_entity=within,
                       allowed_types=_label_set(d.get("allowed_types"), "allowed_types", source, index),
                       excluded_types=_label_set(d.get("excluded_types"), "excluded_types", source, index))


def load_rules(path: str | Path | None = None) -> tuple[ContextRule, ...]:
    """Read and validate a rules file: a JSON list of rule objects, or ``{"context_rules": [...]}``
    (medspaCy's layout). ``None`` reads the packaged default rules, without compiling their patterns to
    check them (``tests/test_context.py`` loads them with the full check, by path): the regular expressions
    are compiled when the matcher first needs them, which keeps start-up short."""
    packaged = path is None
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    source = str(path)
    data = _read_json(path, "context rules")
    if isinstance(data, Mapping):
        if set(data) != {"context_rules"}:
            raise ConfigError(f"{source}: expected a JSON list of rules or an object with the single key "
                              f"'context_rules'; got keys {sorted(data)}")
        data = data["context_rules"]
    if not isinstance(data, list):
        raise ConfigError(f"{source}: expected a JSON list of rule objects, got {type(data).__name__}")
    return tuple(rule_from_dict(d, source=source, index=i, compile_pattern=not packaged) for i, d in enumerate(data))


