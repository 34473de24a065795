"""Ontology hierarchy for cohort queries: the descendants of a code.

Reads the packaged ``resources/ontology/hierarchy.json.gz`` (child -> parents for DOID, NCBITaxon and HP), built by
``imner build hierarchy`` (the dev package: ``dev/imner_dev/lexicon/hierarchy.py``) from the Disease Ontology, the
DO/MONDO NCBITaxon import modules and hp.obo.
ICD-10-CM is prefix-based and needs no table; DrugBank ids have no hierarchy.

>>> h = load_hierarchy()
>>> "DOID:9074" in h.descendants("DOID:417")          # autoimmune disease -> systemic lupus erythematosus
True
>>> "NCBITaxon:10359" in h.descendants("NCBITaxon:10292")   # Herpesviridae -> human cytomegalovirus
True
"""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

from imner.config import RESOURCES
from imner.errors import FormatError, ModelNotFoundError

HIERARCHY_PATH = RESOURCES / "ontology" / "hierarchy.json.gz"


class Hierarchy:
    """child -> parents, and the reverse (parent -> children) built on first use."""

    def __init__(self, parents: dict[str, tuple[str, ...]], info: dict | None = None) -> None:
        self.parents = parents
        self.info = info or {}
        self._children: dict[str, list[str]] | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> "Hierarchy":
        p = Path(path)
        if not p.is_file():
            raise ModelNotFoundError(f"ontology hierarchy {p} not found; build it with "
                                     "`imner build hierarchy` (dev package, needs $IMNER_DATA/lexicons)")
        data = json.loads(gzip.decompress(p.read_bytes()))
        if data.get("format") != "imner-hierarchy":
            raise FormatError("not an imner hierarchy file (format key)", source=str(p))
        parents: dict[str, tuple[str, ...]] = {}
        for line in data["parents"].split("\n") if data["parents"] else ():
            child, _, ps = line.partition("\t")
            parents[child] = tuple(ps.split("|"))
        return cls(parents, data.get("info"))

    @property
    def children(self) -> dict[str, list[str]]:
        if self._children is None:
            ch: dict[str, list[str]] = {}
            for c, ps in self.parents.items():
                for p in ps:
                    ch.setdefault(p, []).append(c)
            self._children = ch
        return self._children

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and (code in self.parents or code in self.children)

    def descendants(self, code: str) -> set[str]:
        """Every code below ``code`` (not ``code`` itself)."""
        out: set[str] = set()
        stack = [code]
        children = self.children
        while stack:
            for c in children.get(stack.pop(), ()):
                if c not in out:
                    out.add(c)
                    stack.append(c)
        return out

    def ancestors(self, code: str) -> set[str]:
        """Every code above ``code``."""
        out: set[str] = set()
        stack = [code]
        while stack:
            for p in self.parents.get(stack.pop(), ()):
                if p not in out:
                    out.add(p)
                    stack.append(p)
        return out


_CACHE: dict[Path, Hierarchy] = {}
_LOCK = threading.Lock()


def load_hierarchy(path: str | Path | None = None) -> Hierarchy:
    """The packaged hierarchy (or the one at ``path``), loaded once."""
    p = Path(path) if path is not None else HIERARCHY_PATH
    with _LOCK:
        h = _CACHE.get(p)
        if h is None:
            h = _CACHE[p] = Hierarchy.from_file(p)
    return h
