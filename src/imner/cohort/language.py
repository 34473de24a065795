"""Cohort queries over the case index: the grammar (parsed with lark), name/code resolution and SQL.

The grammar is documented in ``docs/cohort.md``. In short::

    query    := or
    or       := and ("OR" and)*
    and      := not ("AND" not)*
    not      := "NOT" not | "(" query ")" | sentence | term
    sentence := "SENTENCE" "(" term ("," term)+ ")"          # the terms' mentions in one sentence
    term     := (KEY ":")* value                             # modifiers, then at most one field
    value    := CODE | "quoted name" | word

A term without a field is a concept: a code (``DOID:9074``, ``NCBITaxon:10359``, ``ICD10CM:M32*``,
``HP:0001945``, ``DrugBank:DB00563``; descendants included unless ``exact:``), a class (``IMMUNE_DISEASE``) or
a name resolved through the packaged lexicon (``lupus``, ``"Staphylococcus aureus"``). Entity fields:
``category:``, ``subcategory:``, ``kind:``, ``drug_class:``, ``label:``, ``text:``. Assertion modifiers (default:
affirmed, about the patient, current): ``negated:``, ``uncertain:``, ``hypothetical:``, ``historical:``,
``family:``, ``any:``,
``affirmed:``. Document fields: ``age:``, ``age_group:``, ``sex:``, ``source:``, ``id:`` and any indexed
metadata field (``date:2020-01..2020-06``, ``patient_id:P7``).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from imner.errors import ImnerError

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr -> not_
         | atom
?atom: "(" or_expr ")"
     | sentence
     | term
sentence: SENTENCE "(" term ("," term)+ ")"
term: (KEY ":")* value
value: CODE | STRING | WORD

OR.3: /or(?![^\s()",:])/i
AND.3: /and(?![^\s()",:])/i
NOT.3: /not(?![^\s()",:])/i
SENTENCE.4: /sentence(?=\s*\()/i
CODE.3: /(?i:doid|ncbitaxon|hp|icd10cm|drugbank|mondo):[A-Za-z0-9_.*-]+/
KEY.2: /[A-Za-z_][A-Za-z0-9_.]*(?=\s*:)/
STRING: /"(?:[^"\\]|\\.)*"/
WORD: /[^\s()",:]+/
%ignore /\s+/
"""

#: how the parser's terminal names read in an error message
_EXPECTED_NAMES = {
    "OR": "OR", "AND": "AND", "NOT": "NOT", "SENTENCE": "SENTENCE(", "CODE": "a code (DOID:9074)",
    "KEY": "a field or modifier followed by ':'", "STRING": "a quoted name", "WORD": "a name, class or value",
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "COLON": "':'", "$END": "the end of the query",
}

CODE_PREFIXES = {"doid": "DOID", "ncbitaxon": "NCBITaxon", "hp": "HP", "icd10cm": "ICD10CM",
                 "drugbank": "DRUGBANK", "mondo": "MONDO"}
MODIFIERS = ("negated", "uncertain", "hypothetical", "historical", "family", "affirmed", "any", "exact")
FLAGS = ("negated", "uncertain", "hypothetical", "historical", "family")
ENTITY_FIELDS = ("category", "subcategory", "kind", "drug_class", "label", "class", "text", "code", "name")
PATIENT_FIELDS = ("age", "age_group", "sex")
DOC_FIELDS = ("source", "id", "doc_id", "model_id")
SEXES = ("female", "male")


class QueryError(ImnerError, ValueError):
    """A query that does not parse or names something unknown; the message points at the column."""

    def __init__(self, message: str, query: str | None = None, column: int | None = None) -> None:
        self.query, self.column = query, column
        text = message
        if query is not None and column is not None:
            text = f"column {column}: {message}\n  {query}\n  {' ' * (column - 1)}^"
        super().__init__(text)


# ---------------------------------------------------------------- AST


@dataclass(frozen=True)
class Term:
    keys: tuple[str, ...]
    value: str
    kind: str  # CODE, STRING or WORD
    column: int
    source: str  # the term as written

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Sentence:
    terms: tuple[Term, ...]
    column: int


@dataclass(frozen=True)
class Op:
    op: str  # AND, OR, NOT
    args: tuple[Any, ...]


_PARSER = None


def _parser():
    global _PARSER
    if _PARSER is None:
        from lark import Lark

        _PARSER = Lark(GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)
    return _PARSER


def parse(query: str):
    """The query's syntax tree (:class:`Op`, :class:`Sentence`, :class:`Term`); :class:`QueryError` with the
    column and what was expected when it does not parse."""
    from lark import Token, Tree
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if not query.strip():
        raise QueryError("empty query; try e.g. IMMUNE_DISEASE AND NCBITaxon:10359", query, 1)
    try:
        tree = _parser().parse(query)
    except UnexpectedToken as e:
        expected = _expected(e.expected)
        tok = e.token
        if tok.type == "$END":
            raise QueryError(f"the query ends too early; expected {expected}", query, len(query) + 1) from None
        hint = ""
        if tok.type in ("WORD", "STRING", "CODE", "KEY") and ("AND" in e.expected or "OR" in e.expected):
            hint = " (two terms need AND or OR between them; quote a name of several words: \"lupus nephritis\")"
        raise QueryError(f"unexpected {tok.value!r}; expected {expected}{hint}", query, tok.column) from None
    except UnexpectedCharacters as e:
        allowed = _expected(e.allowed or set())
        raise QueryError(f"unexpected character {query[e.pos_in_stream]!r}; expected {allowed}", query,
                         e.column) from None
    except UnexpectedEOF as e:
        raise QueryError(f"the query ends too early; expected {_expected(e.expected)}", query,
                         len(query) + 1) from None

    def build(node):
        if isinstance(node, Token):
            raise AssertionError(node)
        if node.data in ("or_expr", "and_expr"):
            kids = [build(k) for k in node.children if isinstance(k, Tree)]
            return Op("OR" if node.data == "or_expr" else "AND", tuple(kids))
        if node.data == "not_":
            return Op("NOT", (build(node.children[-1]),))
        if node.data == "sentence":
            terms = tuple(build(k) for k in node.children if isinstance(k, Tree))
            return Sentence(terms, node.meta.column)
        if node.data == "term":
            keys = tuple(str(k) for k in node.children if isinstance(k, Token) and k.type == "KEY")
            (vtok,) = node.children[-1].children
            v = str(vtok)
            if vtok.type == "STRING":
                v = json.loads(v) if "\\" in v else v[1:-1]
            src = query[node.meta.start_pos:node.meta.end_pos]
            return Term(keys, v, vtok.type, node.meta.column, src)
        raise AssertionError(node.data)

    return build(tree)


def _expected(names) -> str:
    names = sorted(set(names), key=lambda n: list(_EXPECTED_NAMES).index(n) if n in _EXPECTED_NAMES else 99)
    shown = [_EXPECTED_NAMES.get(n, n) for n in names]
    if {"CODE", "STRING", "WORD"} <= set(names):
        shown = [s for n, s in zip(names, shown) if n not in ("CODE", "STRING", "WORD", "KEY")]
        shown.insert(0, "a term (a code, a name, a class or field:value)")
    return ", ".join(shown[:-1]) + (" or " if len(shown) > 1 else "") + shown[-1] if shown else "something else"


# ---------------------------------------------------------------- vocabulary


class Vocabulary:
    """What resolution needs: the lexicon, the hierarchy, and what the index holds (codes, metadata fields)."""

    def __init__(self, con) -> None:
        self.con = con
        self._lex = None
        self._hier = None
        self._icd: set[str] | None = None
        self._index_codes: set[str] | None = None
        self._meta_keys: list[str] | None = None
        self._values: dict[str, set[str]] = {}

    @property
    def lexicon(self):
        if self._lex is None:
            from imner.lexicon import load_lexicon

            self._lex = load_lexicon()
        return self._lex

    @property
    def hierarchy(self):
        if self._hier is None:
            from imner.cohort.hierarchy import load_hierarchy

            self._hier = load_hierarchy()
        return self._hier

    @property
    def icd_codes(self) -> set[str]:
        if self._icd is None:
            self._icd = {c for x in self.lexicon.concepts() for c in x.icd10cm}
            self._icd |= {c.split(":", 1)[1] for c in self.index_codes if c.startswith("ICD10CM:")}
        return self._icd

    @property
    def index_codes(self) -> set[str]:
        if self._index_codes is None:
            self._index_codes = {r[0] for r in self.con.execute(
                "SELECT DISTINCT unnest(codes) FROM entities").fetchall()}
        return self._index_codes

    @property
    def meta_keys(self) -> list[str]:
        if self._meta_keys is None:
            rows = self.con.execute("SELECT DISTINCT unnest(json_keys(meta)) FROM documents "
                                    "WHERE meta IS NOT NULL").fetchall()
            self._meta_keys = sorted(r[0] for r in rows)
        return self._meta_keys

    def values(self, column: str) -> set[str]:
        """Known values of an entity field: the lexicon's (categories, kinds), the drug-class rules' and the
        index's own."""
        if column not in self._values:
            vals: set[str] = set()
            if column in ("category", "subcategory", "kind"):
                vals = {getattr(c, column) for c in self.lexicon.concepts() if getattr(c, column)}
            elif column == "drug_class":
                from imner.normalize.drug_classes import load_drug_class_rules

                vals = {r.drug_class for r in load_drug_class_rules().rules}
            vals |= {r[0] for r in self.con.execute(
                f"SELECT DISTINCT {column} FROM entities WHERE {column} IS NOT NULL").fetchall()}
            self._values[column] = vals
        return self._values[column]

    def known_code(self, code: str) -> bool:
        return code in self.lexicon or code in self.hierarchy or code in self.index_codes


def nearest(word: str, candidates, n: int = 5) -> list[str]:
    """The candidates closest to ``word`` (difflib ratio), best first."""
    w = word.lower()
    pool = [c for c in candidates if c and abs(len(c) - len(w)) <= max(3, len(w) // 2)]
    by_lower: dict[str, str] = {}
    for c in pool:
        by_lower.setdefault(c.lower(), c)
    return [by_lower[m] for m in difflib.get_close_matches(w, list(by_lower), n=n, cutoff=0.6)]


def _suggest(items: list[str]) -> str:
    return f"; nearest: {', '.join(items)}" if items else ""


# ---------------------------------------------------------------- compilation


@dataclass
class Resolution:
    """How one term was understood (shown to the user)."""

    term: str
    meaning: str
    codes: int | None = None

    def __str__(self) -> str:
        return f"{self.term} -> {self.meaning}"


@dataclass
class Compiled:
    """SQL for the documents that match, its parameters, the entity conditions (for evidence) and the
    resolution of every term."""

    sql: str
    params: list[Any]
    mention_terms: list[tuple[Term, str, list[Any]]] = field(default_factory=list)
    resolution: list[Resolution] = field(default_factory=list)


class _Compiler:
    def __init__(self, vocab: Vocabulary, query: str, descendants: bool = True) -> None:
        self.v, self.query, self.descendants = vocab, query, descendants
        self.resolution: list[Resolution] = []
        self.mentions: list[tuple[Term, str, list[Any]]] = []

    def err(self, msg: str, col: int) -> QueryError:
        return QueryError(msg, self.query, col)

    # -- documents
    def doc(self, node, positive: bool = True) -> tuple[str, list[Any]]:
        if isinstance(node, Op):
            if node.op == "NOT":
                s, p = self.doc(node.args[0], not positive)
                return f"(NOT {s})", p
            parts = [self.doc(a, positive) for a in node.args]
            return "(" + f" {node.op} ".join(s for s, _ in parts) + ")", [x for _, p in parts for x in p]
        if isinstance(node, Sentence):
            conds, params = [], []
            for i, t in enumerate(node.terms):
                c, p = self.mention(t, f"e{i}")
                if c is None:
                    raise self.err(f"{t.source!r} is a document filter; SENTENCE(...) takes mention terms "
                                   "(codes, names, classes, entity fields)", t.column)
                conds.append(c)
                params += p
            n = len(node.terms)
            if positive:  # evidence: a mention of term i with mentions of the others in its sentence
                for i, t in enumerate(node.terms):
                    c, p = self.mention(t, "e")
                    for j, u in enumerate(node.terms):
                        if j != i:
                            cj, pj = self.mention(u, f"x{j}")
                            c += (f" AND EXISTS (SELECT 1 FROM entities x{j} WHERE x{j}.doc_id = e.doc_id AND "
                                  f"x{j}.sentence_start = e.sentence_start AND x{j}.idx <> e.idx AND {cj})")
                            p = p + pj
                    self.mentions.append((t, c, p))
            froms = ", ".join(f"entities e{i}" for i in range(n))
            joins = [f"e{i}.doc_id = d.doc_id" for i in range(n)]
            joins += [f"e{i}.sentence_start = e0.sentence_start" for i in range(1, n)]
            joins += [f"e{i}.idx <> e{j}.idx" for i in range(n) for j in range(i)]
            return f"EXISTS (SELECT 1 FROM {froms} WHERE {' AND '.join(joins + conds)})", params
        c, p = self.mention(node, "e")
        if c is None:
            return self.document_filter(node)
        if positive:
            self.mentions.append((node, c, p))
        return f"EXISTS (SELECT 1 FROM entities e WHERE e.doc_id = d.doc_id AND {c})", p

    # -- one mention
    def mention(self, t: Term, e: str) -> tuple[str | None, list[Any]]:
        mods = [k.lower() for k in t.keys if k.lower() in MODIFIERS]
        fields = [k for k in t.keys if k.lower() not in MODIFIERS]
        if len(fields) > 1:
            raise self.err(f"one field per term, got {', '.join(fields)}; combine terms with AND", t.column)
        fld = fields[0].lower() if fields else None
        if fld is not None and fld not in ENTITY_FIELDS:
            if mods:
                raise self.err(f"{', '.join(m + ':' for m in mods)} apply to mentions, not to the document "
                               f"field {fields[0]!r}", t.column)
            return None, []
        record = e == "e" and not any(r.term == t.source for r in self.resolution)
        cond, params = self.concept(t, fld, e, "exact" not in mods, record)
        conds = [cond]
        if "any" not in mods:
            wanted = {f: False for f in FLAGS}
            if "affirmed" not in mods:
                for m in mods:
                    if m in FLAGS:
                        wanted[m] = True
            conds += [f"coalesce({e}.{f}, false) = {str(v).lower()}" for f, v in wanted.items()]
        return "(" + " AND ".join(conds) + ")", params

    def concept(self, t: Term, fld: str | None, e: str, expand: bool, record: bool) -> tuple[str, list[Any]]:
        v = t.value
        expand = expand and self.descendants
        if fld in (None, "code") and (t.kind == "CODE" or fld == "code"):
            return self.code(t, v, e, expand, record)
        if fld is None and t.kind == "WORD" and v.upper() == v and v in _labels():
            if record:
                self.resolution.append(Resolution(t.source, f"class {v}"))
            return f"{e}.label = ?", [v]
        if fld in ("label", "class"):
            lab = v.upper()
            if lab not in _labels():
                raise self.err(f"unknown class {v!r}; classes: {', '.join(_labels())}"
                               f"{_suggest(nearest(v, _labels()))}", t.column)
            if record:
                self.resolution.append(Resolution(t.source, f"class {lab}"))
            return f"{e}.label = ?", [lab]
        if fld in ("category", "subcategory", "kind", "drug_class"):
            known = self.v.values(fld)
            if v not in known:
                val = v.replace("_", " ")
                if val not in known:
                    raise self.err(f"unknown {fld} {v!r}; known: {', '.join(sorted(known))}"
                                   f"{_suggest(nearest(v, known))}", t.column)
                v = val
            if record:
                self.resolution.append(Resolution(t.source, f"{fld} = {v!r}"))
            return f"{e}.{fld} = ?", [v]
        if fld == "text":
            if record:
                self.resolution.append(Resolution(t.source, f"mention text equal to {v!r} (any case)"))
            return f"lower({e}.text) = ?", [v.lower()]
        return self.name(t, v, e, expand, record)

    def code(self, t: Term, v: str, e: str, expand: bool, record: bool) -> tuple[str, list[Any]]:
        prefix, _, local = v.partition(":")
        canon = CODE_PREFIXES.get(prefix.lower())
        if canon is None:
            raise self.err(f"unknown code system {prefix!r}; use one of DOID, NCBITaxon, HP, ICD10CM, DrugBank, "
                           "MONDO", t.column)
        if canon == "ICD10CM":
            return self.icd(t, local, e, expand, record)
        if canon == "DRUGBANK":
            local = local.upper()
        code = f"{canon}:{local}"
        if "*" in code:
            raise self.err(f"'*' is for ICD-10-CM prefixes (ICD10CM:M32*); {canon} codes take descendants "
                           "from the ontology already", t.column)
        if not self.v.known_code(code):
            same = [c for c in self.v.lexicon._rows_by_id() if c.startswith(canon + ":")]
            raise self.err(f"unknown code {code}: not in the packaged lexicon or hierarchy"
                           f"{_suggest(nearest(code, same, 5))}", t.column)
        codes = {code}
        if expand:
            codes |= self.v.hierarchy.descendants(code)
        present = sorted(codes & self.v.index_codes)
        if record:
            name = self.v.lexicon.concept(code).name if code in self.v.lexicon else ""
            more = f" + {len(codes) - 1} descendant codes" if len(codes) > 1 else " (no descendants)" if expand \
                else " (exact)"
            self.resolution.append(Resolution(t.source, f"{code} {name}".strip() + more
                                              + f"; {len(present)} of them in the index", len(codes)))
        return f"list_has_any({e}.codes, ?::VARCHAR[])", [present]

    def icd(self, t: Term, local: str, e: str, expand: bool, record: bool) -> tuple[str, list[Any]]:
        star = local.endswith("*")
        pre = local.rstrip("*").replace(".", "").upper()
        if not pre or "*" in local.rstrip("*"):
            raise self.err("an ICD-10-CM code or prefix looks like M32, M32.1 or M32*", t.column)
        known = self.v.icd_codes
        if star or expand:
            hits = {c for c in known if c.replace(".", "").upper().startswith(pre)}
        else:
            hits = {c for c in known if c.replace(".", "").upper() == pre}
        if not hits:
            raise self.err(f"no ICD-10-CM code in the lexicon {'starts with' if star or expand else 'is'} "
                           f"{local.rstrip('*')}{_suggest(nearest(local.rstrip('*'), known, 5))}", t.column)
        present = sorted(f"ICD10CM:{c}" for c in hits if f"ICD10CM:{c}" in self.v.index_codes)
        if record:
            how = "prefix" if star or expand else "exact code"
            self.resolution.append(Resolution(t.source, f"ICD-10-CM {how} {local.rstrip('*')}: {len(hits)} codes; "
                                              f"{len(present)} in the index", len(hits)))
        return f"list_has_any({e}.codes, ?::VARCHAR[])", [present]

    def name(self, t: Term, v: str, e: str, expand: bool, record: bool) -> tuple[str, list[Any]]:
        lex = self.v.lexicon
        found = lex.lookup(v) or lex.lookup(v, respect_case=False)
        if not found:
            from imner.lexicon.normalize import normalize_term

            key = normalize_term(v)
            raise self.err(f"no concept named {v!r} in the packaged lexicon"
                           f"{_suggest(nearest(key, lex.keys(), 5))}; or give a code (DOID:..., NCBITaxon:...)",
                           t.column)
        chosen = [c for c in found if c.source == found[0].source]
        others = [c for c in found if c.source != found[0].source]
        codes: set[str] = set()
        for c in chosen:
            codes.add(c.id)
            if expand:
                codes |= self.v.hierarchy.descendants(c.id)
        present = sorted(codes & self.v.index_codes)
        if record:
            what = ", ".join(f"{c.id} {c.name}" for c in chosen)
            more = f" + {len(codes) - len(chosen)} descendant codes" if len(codes) > len(chosen) else ""
            also = f" (also named so: {', '.join(f'{c.id} {c.name}' for c in others)}; give the code to use it)" \
                if others else ""
            self.resolution.append(Resolution(t.source, f"{what}{more}; {len(present)} in the index{also}",
                                              len(codes)))
        return f"list_has_any({e}.codes, ?::VARCHAR[])", [present]

    # -- document fields
    def document_filter(self, t: Term) -> tuple[str, list[Any]]:
        key = t.keys[-1]
        k = key.lower()
        v = t.value
        if k == "age":
            return self.compare("d.age", v, t, numeric=True)
        if k == "age_group":
            from imner.patient import AGE_GROUPS

            groups = [g for g, _ in AGE_GROUPS]
            val = v.replace("_", " ").lower()
            if val not in groups:
                raise self.err(f"unknown age group {v!r}; groups: {', '.join(groups)}{_suggest(nearest(v, groups))}",
                               t.column)
            self.resolution.append(Resolution(t.source, f"patient age group {val}"))
            return "d.age_group = ?", [val]
        if k == "sex":
            val = v.lower()
            if val not in SEXES:
                raise self.err(f"sex is female or male, got {v!r}", t.column)
            self.resolution.append(Resolution(t.source, f"patient sex {val}"))
            return "d.sex = ?", [val]
        if k in ("id", "doc_id"):
            return self.compare("d.doc_id", v, t)
        if k in ("source", "model_id"):
            return self.compare(f"d.{k}", v, t)
        meta = self.v.meta_keys
        if key not in meta:
            fields = sorted(set(ENTITY_FIELDS) | set(PATIENT_FIELDS) | {"source", "id"} | set(meta))
            raise self.err(f"unknown field {key!r}: not a mention field, a patient field or an indexed metadata "
                           f"field; fields: {', '.join(fields)}{_suggest(nearest(key, fields))}", t.column)
        col = f"json_extract_string(d.meta, '$.\"{key}\"')"
        return self.compare(col, v, t)

    def compare(self, col: str, v: str, t: Term, numeric: bool = False) -> tuple[str, list[Any]]:
        """``a..b`` (inclusive), ``>=x``, ``>x``, ``<=x``, ``<x``, ``=x``, ``x``; dates (YYYY, YYYY-MM,
        YYYY-MM-DD) compare as dates, numbers as numbers, else text (``*`` a wildcard)."""
        m = re.fullmatch(r"(>=|<=|>|<|=)?(.*)", v, re.S)
        op, rest = m.group(1), m.group(2)
        lo = hi = None
        if ".." in rest and not op:
            lo_s, hi_s = rest.split("..", 1)
            lo, hi = lo_s or None, hi_s or None
            if lo is None and hi is None:
                raise self.err("a range needs at least one end: 18..65, 18.. or ..65", t.column)
        kind = "number" if numeric else None
        vals = [x for x in (lo, hi, rest if lo is None and hi is None else None) if x]
        if kind is None:
            if vals and all(_as_date(x, False) for x in vals):
                kind = "date"
            elif vals and all(_as_number(x) is not None for x in vals):
                kind = "number"
            else:
                kind = "text"
        if kind == "number":
            bad = [x for x in vals if _as_number(x) is None]
            if bad:
                raise self.err(f"{t.keys[-1]} takes a number or a range (18..65, >=65), got {bad[0]!r}", t.column)
            expr = f"TRY_CAST({col} AS DOUBLE)"
            conv = _as_number
        elif kind == "date":
            expr = f"TRY_CAST(left({col}, 10) AS DATE)"
            conv = None
        else:
            if op in (">", "<", ">=", "<=") or lo or hi:
                raise self.err(f"{t.keys[-1]}: comparisons need numbers or dates (YYYY, YYYY-MM, YYYY-MM-DD), "
                               f"got {v!r}", t.column)
            self.resolution.append(Resolution(t.source, f"{t.keys[-1]} {'like' if '*' in rest else '='} {rest!r}"))
            if "*" in rest:
                return f"{col} LIKE ?", [rest.replace("%", r"\%").replace("*", "%")]
            return f"{col} = ?", [rest]
        conds, params = [], []

        def low(x):
            return _as_date(x, False) if kind == "date" else conv(x)

        def high(x):
            return _as_date(x, True) if kind == "date" else conv(x)

        if lo is not None or hi is not None:
            if lo is not None:
                conds.append(f"{expr} >= ?")
                params.append(low(lo))
            if hi is not None:
                conds.append(f"{expr} <= ?")
                params.append(high(hi))
        elif op in (">=", ">"):
            conds.append(f"{expr} {op} ?")
            params.append(low(rest) if op == ">=" else high(rest))
        elif op in ("<=", "<"):
            conds.append(f"{expr} {op} ?")
            params.append(high(rest) if op == "<=" else low(rest))
        elif kind == "date":
            conds += [f"{expr} >= ?", f"{expr} <= ?"]
            params += [low(rest), high(rest)]
        else:
            conds.append(f"{expr} = ?")
            params.append(conv(rest))
        shown = " and ".join(f"{c.rsplit(' ', 2)[1]} {p}" for c, p in zip(conds, params))
        self.resolution.append(Resolution(t.source, f"{t.keys[-1]} {shown}"))
        return "(" + " AND ".join(conds) + ")", params


def _labels() -> tuple[str, ...]:
    from imner.schema import LABEL_NAMES

    return LABEL_NAMES


def _as_number(x: str) -> float | None:
    try:
        return float(x)
    except ValueError:
        return None


def _as_date(x: str, end: bool) -> date | None:
    """The first (or, with ``end``, last) day of YYYY, YYYY-MM or YYYY-MM-DD."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", x)
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            return date(y, int(mo), int(d))
        if mo:
            first = date(y, int(mo), 1)
            if not end:
                return first
            nxt = date(y + (first.month == 12), first.month % 12 + 1, 1)
            return nxt - timedelta(days=1)
        return date(y, 12, 31) if end else date(y, 1, 1)
    except ValueError:
        return None


def compile_query(query: str, vocab: Vocabulary, *, descendants: bool = True) -> Compiled:
    """SQL selecting ``doc_id`` of the matching documents (alias ``d`` over ``documents``)."""
    tree = parse(query)
    c = _Compiler(vocab, query, descendants)
    where, params = c.doc(tree)
    sql = f"SELECT d.doc_id FROM documents d WHERE {where} ORDER BY d.doc_id"
    return Compiled(sql, params, c.mentions, c.resolution)
