"""Running a cohort query on the index: matching documents, their patient and metadata, and (with evidence)
the sentence of every matched mention with its offsets. Output as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from imner.cohort.language import Resolution, Vocabulary, compile_query


@dataclass
class Evidence:
    """One matched mention: its term, offsets into the document text, and its sentence (with offsets)."""

    term: str
    start: int
    end: int
    text: str
    label: str
    concept_id: str | None
    sentence_start: int
    sentence_end: int
    sentence: str
    assertion: dict[str, bool]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CohortResult:
    """The documents a query matched (ids sorted), with how each term was resolved."""

    query: str
    documents: list[dict[str, Any]]
    resolution: list[Resolution] = field(default_factory=list)
    total_documents: int = 0

    @property
    def doc_ids(self) -> list[str]:
        return [d["doc_id"] for d in self.documents]

    def __len__(self) -> int:
        return len(self.documents)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "matched": len(self.documents), "indexed": self.total_documents,
                "resolution": [{"term": r.term, "meaning": r.meaning} for r in self.resolution],
                "documents": [{**d, "evidence": [e.to_dict() for e in d.get("evidence", [])]}
                              if "evidence" in d else d for d in self.documents]}


def run_query(con, query: str, *, evidence: bool = False, descendants: bool = True,
              vocab: Vocabulary | None = None) -> CohortResult:
    vocab = vocab or Vocabulary(con)
    comp = compile_query(query, vocab, descendants=descendants)
    ids = [r[0] for r in con.execute(comp.sql, comp.params).fetchall()]
    total = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    docs: list[dict[str, Any]] = []
    if ids:
        rows = con.execute("SELECT doc_id, source, age, age_group, sex, meta FROM documents "
                           "WHERE doc_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY doc_id", [ids]).fetchall()
        for doc_id, source, age, group, sex, meta in rows:
            docs.append({"doc_id": doc_id, "source": source, "age": age, "age_group": group, "sex": sex,
                         "meta": json.loads(meta) if meta else {}})
    if evidence and docs:
        by_id = {d["doc_id"]: d for d in docs}
        for d in docs:
            d["evidence"] = []
        texts = dict(con.execute("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                                 [ids]).fetchall())
        seen: set[tuple[str, int]] = set()
        for term, cond, params in comp.mention_terms:
            rows = con.execute(
                "SELECT e.doc_id, e.idx, e.start_offset, e.end_offset, e.text, e.label, e.concept_id, "
                "e.sentence_start, e.sentence_end, e.negated, e.uncertain, e.hypothetical, e.historical, e.family "
                f"FROM entities e WHERE e.doc_id IN (SELECT unnest(?::VARCHAR[])) AND {cond} "
                "ORDER BY e.doc_id, e.start_offset", [ids, *params]).fetchall()
            for (doc_id, idx, s, e_, txt, label, cid, ss, se, neg, unc, hyp, hist, fam) in rows:
                if (doc_id, idx) in seen:
                    continue
                seen.add((doc_id, idx))
                by_id[doc_id]["evidence"].append(Evidence(
                    term.source, s, e_, txt, label, cid, ss, se, texts[doc_id][ss:se],
                    {"negated": bool(neg), "uncertain": bool(unc), "hypothetical": bool(hyp), "historical": bool(hist),
                     "family": bool(fam)}))
        for d in docs:
            d["evidence"].sort(key=lambda ev: ev.start)
    return CohortResult(query, docs, comp.resolution, total)


def format_result(res: CohortResult, fmt: str, *, evidence: bool = False) -> str:
    if fmt == "json":
        return json.dumps(res.to_dict(), ensure_ascii=False, indent=1, default=str) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if evidence:
            w.writerow(["doc_id", "age", "age_group", "sex", "term", "start", "end", "mention", "label",
                        "concept_id", "sentence_start", "sentence_end", "sentence"])
            for d in res.documents:
                for ev in d.get("evidence", []):
                    w.writerow([d["doc_id"], d["age"], d["age_group"], d["sex"], ev.term, ev.start, ev.end, ev.text,
                                ev.label, ev.concept_id, ev.sentence_start, ev.sentence_end, ev.sentence])
        else:
            w.writerow(["doc_id", "source", "age", "age_group", "sex"])
            for d in res.documents:
                w.writerow([d["doc_id"], d["source"], d["age"], d["age_group"], d["sex"]])
        return buf.getvalue()
    lines = [f"{len(res)} of {res.total_documents} documents match"]
    if res.documents:
        width = max(6, *(len(d["doc_id"]) for d in res.documents))
        lines.append(f"{'doc_id':<{width}}  {'age':>5}  {'sex':<6}  source")
        for d in res.documents:
            age = "" if d["age"] is None else f"{d['age']:g}"
            lines.append(f"{d['doc_id']:<{width}}  {age:>5}  {d['sex'] or '':<6}  {d['source'] or ''}")
            for ev in d.get("evidence", []):
                flags = ",".join(k for k, v in ev.assertion.items() if v)
                lines.append(f"    [{ev.start}:{ev.end}] {ev.text!r} {ev.label} {ev.concept_id or ''}"
                             f"{' (' + flags + ')' if flags else ''} <- {ev.term}")
                lines.append(f"      sentence [{ev.sentence_start}:{ev.sentence_end}]: {ev.sentence.strip()}")
    return "\n".join(lines) + "\n"
