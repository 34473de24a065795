"""Build the imd-cases corpus: MACCROBAT2020 -> twelve classes, reproducibly.

``python -m imner_dev.annotation.build`` regenerates ``corpus/imd-cases/ann/<doc_id>.ann`` (brat, over the MACCROBAT
texts in ``$IMNER_DATA/maccrobat/MACCROBAT2020``; texts are not copied) and the review files in
``corpus/imd-cases/review/`` from

1. the MACCROBAT annotations, projected by :mod:`imner_dev.annotation.projection`;
2. disease classes pre-assigned by :mod:`imner_dev.annotation.disease_class`, overridden by
   ``decisions/diseases.tsv``;
3. pathogens added by :mod:`imner_dev.annotation.pathogen_layer` with the dictionary of
   :mod:`imner_dev.annotation.pathogens`;
4. span edits from ``decisions/pathogens.tsv`` (see :mod:`imner_dev.annotation.decisions`).

The disease pre-labels of step 2 are frozen in ``corpus/imd-cases/prelabels.tsv`` (written on the first build,
recomputed only with ``--refresh-prelabels``), so a rebuilt lexicon does not move the first pass under the
reviewers. So the committed .ann files are projection + frozen pre-labels + decisions. ``--check`` rebuilds in memory and fails if the committed
files differ. ``--collect-review`` copies the ``decision``/``reason`` columns that reviewers filled in
``review/diseases.tsv`` into ``decisions/diseases.tsv`` (then rebuild).

In the .ann files T ids are MACCROBAT's own (a projected span keeps its source T id); spans added here (pathogens)
get numbers above the document's largest MACCROBAT T id. ``negated``/``uncertain`` are ``A`` lines; disease spans
and pathogen-related spans carry an ``AnnotatorNotes`` line with the evidence.
"""

from __future__ import annotations

import csv
import functools
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from imner_dev.annotation import disease_class as dc
from imner_dev.annotation.decisions import (DiseaseDecision, SpanDecision, read_disease_decisions,
                                        read_span_decisions)
from imner_dev.annotation.pathogen_layer import PathogenRow, add_pathogens
from imner_dev.annotation.pathogens import Entry, PathogenMatcher, default_matcher
from imner_dev.annotation.projection import Resolution, project_document
from imner.config import data_path
from imner.corpora.imd_cases import corpus_dir
from imner.errors import InputError
from imner.schema import LABEL_NAMES
from imner.text import split_sentences
from imner.types import Document, Span

SOURCE_PARTS = ("maccrobat", "MACCROBAT2020")


def source_dir() -> Path:
    return data_path(*SOURCE_PARTS)


@functools.lru_cache(maxsize=2)
def _source_docs(path: str) -> dict[str, Document]:
    from imner.io.brat import read_brat

    return {d.id: d for d in read_brat(path)}


def source_documents() -> dict[str, Document]:
    """MACCROBAT2020 documents by id (spans labelled with MACCROBAT types, ``attrs['id']`` = T id)."""
    return _source_docs(str(source_dir()))


# ---------------------------------------------------------------- build


@dataclass
class DiseaseRow:
    doc_id: str
    tid: str
    start: int
    end: int
    mention: str
    sentence: str
    pre: dc.PreLabel
    context: str
    final: str
    decision: DiseaseDecision | None = None


@dataclass
class BuildResult:
    docs: list[Document]
    disease_rows: list[DiseaseRow]
    pathogen_rows: list[PathogenRow]
    resolutions: list[Resolution]
    decisions_applied: Counter = field(default_factory=Counter)


def _sentence(text: str, bounds: list[tuple[int, int]], start: int) -> str:
    for a, b in bounds:
        if a <= start < b:
            return " ".join(text[a:b].split())
    return ""


def context_cues(sentence: str, matcher: PathogenMatcher) -> str:
    """Mechanism words and organism names in the sentence, for the reviewer."""
    low = sentence.lower()
    inf = sorted({m.group() for m in dc._INFECTIOUS_CUES.finditer(low)})
    imm = sorted({m.group() for m in dc._IMMUNE_CUES.finditer(low)})
    org = sorted({m.text for m in matcher.find(sentence)})
    parts = []
    if inf:
        parts.append("infectious: " + ", ".join(inf))
    if imm:
        parts.append("immune: " + ", ".join(imm))
    if org:
        parts.append("organisms: " + ", ".join(org))
    return "; ".join(parts)


def _doc_matcher(matcher: PathogenMatcher, abbreviations: dict[str, str]) -> PathogenMatcher:
    """``matcher`` plus the pathogen abbreviations the document defines ("astrovirus (AstV)")."""
    extra: dict[str, Entry] = {}
    for sf, lf in abbreviations.items():
        if sf in matcher.entries:
            continue
        hits = matcher.find(lf)
        if len(hits) == 1 and hits[0].start == 0 and hits[0].end == len(lf):
            e = matcher.entries.get(hits[0].text) or Entry(sf, hits[0].taxid, "", hits[0].source, False)
            extra[sf] = Entry(sf, e.taxid, e.group, f"document-abbreviation of {lf!r}", e.ambiguous)
    return matcher.with_names(extra) if extra else matcher


def _max_tid(doc: Document) -> int:
    return max([int(m.group(1)) for s in doc.spans if (m := re.fullmatch(r"T(\d+)", str(s.attrs.get("id", ""))))]
               + [0])


def _is_disease_word(text: str) -> bool:
    return not dc.classify(text, use_imner_lexicon=False).evidence.startswith("rule 4")


def _apply_span_decisions(doc: Document, decisions: list[SpanDecision], counts: Counter) -> Document:
    spans = list(doc.spans)
    taken = {_max_tid_of(spans)}
    for d in decisions:
        if d.action == "remove":
            hit = next((s for s in spans if (s.start, s.end, s.label) == (d.start, d.end, d.label)), None)
            if hit is None:
                raise InputError(f"remove: {d.doc_id} has no {d.label} span at [{d.start}, {d.end}) "
                                 f"{d.mention!r} in the automatic result (was it changed? rebuild and re-check)",
                                 source=d.source, line=d.line)
            spans.remove(hit)
        else:
            clash = next((s for s in spans if s.start < d.end and d.start < s.end), None)
            if clash is not None:
                raise InputError(f"add: {d.label} [{d.start}, {d.end}) {d.mention!r} overlaps {clash.label} "
                                 f"[{clash.start}, {clash.end}) {doc.text[clash.start:clash.end]!r} "
                                 f"({clash.attrs.get('source_id', '')}); remove that span first (spans are flat)",
                                 source=d.source, line=d.line)
            n = max(taken) + 1
            taken.add(n)
            spans.append(Span(d.start, d.end, d.label, attrs={"source_type": "review", "source_id": f"T{n}",
                                                                  "decision": f"{Path(d.source).name}:{d.line}",
                                                                  "reason": d.reason}))
        counts[f"span-{d.action}"] += 1
    return doc.with_spans(spans)


def _max_tid_of(spans: Iterable[Span]) -> int:
    return max([int(m.group(1)) for s in spans if (m := re.fullmatch(r"T(\d+)", str(s.attrs.get("source_id", ""))))]
               + [0])


PRELABEL_HEADER = ["doc_id", "tid", "mention", "pre_label", "confidence", "evidence"]


def compute_prelabels(source: dict[str, Document], matcher: PathogenMatcher | None = None
                      ) -> dict[tuple[str, str], dc.PreLabel]:
    """The automatic disease pre-label of every ``Disease_disorder`` span, by (doc_id, T id)."""
    matcher = matcher or default_matcher()
    out: dict[tuple[str, str], dc.PreLabel] = {}
    for doc_id in sorted(source):
        src = source[doc_id]
        abbreviations = dc.find_abbreviations(src.text)
        dm = _doc_matcher(matcher, abbreviations)
        for s in src.spans:
            if s.label == "Disease_disorder":
                out[(doc_id, str(s.attrs["id"]))] = dc.classify(s.text_in(src.text), abbreviations=abbreviations,
                                                                 find_pathogens=dm.triples)
    return out


def write_prelabels(pre: dict[tuple[str, str], dc.PreLabel], source: dict[str, Document], path: Path) -> None:
    spans = {(d, str(s.attrs.get("id"))): s.text_in(source[d].text) for d in source for s in source[d].spans}
    _write_tsv(path, PRELABEL_HEADER,
               ([d, t, spans[(d, t)], p.label, p.confidence, p.evidence]
                for (d, t), p in sorted(pre.items(), key=lambda kv: (kv[0][0], _tid_num(kv[0][1])))),
               "Automatic disease pre-labels (imner_dev.annotation.disease_class), frozen so the build does not change\n"
               "when a lexicon is rebuilt. Regenerate deliberately: python -m imner_dev.annotation.build --refresh-prelabels")


def read_prelabels(path: Path, source: dict[str, Document]) -> dict[tuple[str, str], dc.PreLabel]:
    src = str(path)
    out: dict[tuple[str, str], dc.PreLabel] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [(n, ln.rstrip("\r\n")) for n, ln in enumerate(fh, start=1) if not ln.startswith("#")]
    header = lines[0][1].split("\t") if lines else []
    if header != PRELABEL_HEADER:
        raise InputError(f"header must be {PRELABEL_HEADER}", source=src, line=lines[0][0] if lines else 1)
    for n, ln in lines[1:]:
        cells = next(csv.reader([ln], delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))
        d, t, mention, label, conf, evidence = (cells + [""] * 6)[:6]
        doc = source.get(d)
        span = next((s for s in doc.spans if s.attrs.get("id") == t), None) if doc else None
        if span is None or span.label != "Disease_disorder":
            raise InputError(f"{d} {t} is not a Disease_disorder of MACCROBAT2020", source=src, line=n)
        if " ".join(span.text_in(doc.text).split()) != mention:
            raise InputError(f"mention {mention!r} does not match {span.text_in(doc.text)!r}", source=src, line=n)
        if label not in (dc.IMMUNE, dc.INFECTIOUS, dc.OTHER) or conf not in dc.CONFIDENCES:
            raise InputError(f"bad pre-label {label!r} / confidence {conf!r}", source=src, line=n)
        out[(d, t)] = dc.PreLabel(label, evidence, conf)
    missing = [(d, str(s.attrs["id"])) for d in source for s in source[d].spans
               if s.label == "Disease_disorder" and (d, str(s.attrs["id"])) not in out]
    if missing:
        raise InputError(f"{len(missing)} Disease_disorder spans have no pre-label (first {missing[0]}); run "
                         "python -m imner_dev.annotation.build --refresh-prelabels", source=src)
    return out


def _tid_num(tid: str) -> int:
    m = re.search(r"\d+", tid)
    return int(m.group()) if m else 0


def build(*, decisions_dir: Path | None = None, source: dict[str, Document] | None = None,
          matcher: PathogenMatcher | None = None,
          prelabels: dict[tuple[str, str], dc.PreLabel] | None = None) -> BuildResult:
    """Run the whole projection over all source documents (see the module doc). ``prelabels``: frozen disease
    pre-labels (:func:`read_prelabels`); computed when None."""
    source = source if source is not None else source_documents()
    if prelabels is None:
        prelabels = compute_prelabels(source, matcher)
    matcher = matcher or default_matcher()
    decisions_dir = decisions_dir if decisions_dir is not None else corpus_dir() / "decisions"
    dpath, ppath = decisions_dir / "diseases.tsv", decisions_dir / "pathogens.tsv"
    disease_dec = read_disease_decisions(dpath, source) if dpath.exists() else {}
    span_dec = read_span_decisions(ppath, source) if ppath.exists() else []
    span_dec_by_doc: dict[str, list[SpanDecision]] = defaultdict(list)
    for d in span_dec:
        span_dec_by_doc[d.doc_id].append(d)

    result = BuildResult([], [], [], [])
    for doc_id in sorted(source):
        src = source[doc_id]
        text = src.text
        abbreviations = dc.find_abbreviations(text)
        dm = _doc_matcher(matcher, abbreviations)
        pre: dict[str, dc.PreLabel] = {}
        labels: dict[str, str] = {}
        for s in src.spans:
            if s.label != "Disease_disorder":
                continue
            tid = str(s.attrs["id"])
            pre[tid] = prelabels[(doc_id, tid)]
            dec = disease_dec.get((doc_id, tid))
            labels[tid] = dec.label if dec else pre[tid].label
            if dec:
                result.decisions_applied["disease"] += 1
        projected, res = project_document(src, labels)
        result.resolutions.extend(res)
        frozen = frozenset(tid for (d, tid) in disease_dec if d == doc_id)
        final, prow = add_pathogens(projected, dm.find(text), is_disease_word=_is_disease_word,
                                    frozen_ids=frozen, base_max_id=_max_tid(src))
        result.pathogen_rows.extend(prow)
        final = _apply_span_decisions(final, span_dec_by_doc.get(doc_id, []), result.decisions_applied)
        _check_flat(final)
        final = _with_notes(final, pre, disease_dec)
        result.docs.append(final.with_meta(source="MACCROBAT2020"))

        bounds = split_sentences(text)
        by_id = {str(s.attrs.get("source_id")): s for s in final.spans}
        dropped = {r.source_id: r for r in res if r.kind in ("overlap-dropped", "duplicate-merged")}
        for s in src.spans:
            if s.label != "Disease_disorder":
                continue
            tid = str(s.attrs["id"])
            out = by_id.get(tid)
            if out is None:
                fin = f"dropped: {dropped[tid].detail}" if tid in dropped else "removed by a span decision"
            elif (out.start, out.end) != (s.start, s.end):
                fin = f"{out.label} [{out.start},{out.end}) {text[out.start:out.end]!r}"
            else:
                fin = out.label
            sent = _sentence(text, bounds, s.start)
            result.disease_rows.append(DiseaseRow(doc_id, tid, s.start, s.end, s.text_in(text), sent, pre[tid],
                                                  context_cues(sent, dm), fin, disease_dec.get((doc_id, tid))))
    return result


def _check_flat(doc: Document) -> None:
    spans = sorted(doc.spans, key=lambda s: (s.start, s.end))
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            raise AssertionError(f"{doc.id}: overlapping spans {a.label} [{a.start},{a.end}) and {b.label} "
                                 f"[{b.start},{b.end})")
        if a.label not in LABEL_NAMES:
            raise AssertionError(f"{doc.id}: label {a.label}")


def _with_notes(doc: Document, pre: dict[str, dc.PreLabel], decisions: dict) -> Document:
    """Attach the human-readable evidence note each written span carries."""
    out = []
    for s in doc.spans:
        a = dict(s.attrs)
        tid = str(a.get("source_id", ""))
        note = ""
        if a.get("source_type") == "Disease_disorder" and "relabelled_from" not in a:
            dec = decisions.get((doc.id, tid))
            p = pre[tid]
            note = f"MACCROBAT Disease_disorder {tid}; pre-label {p.label} ({p.confidence}): {p.evidence}"
            if dec:
                note += f"; review decision {dec.label}: {dec.reason}".rstrip(": ")
            if a.get("split_pathogen"):
                note += "; organism prefix split off as PATHOGEN"
        elif a.get("relabelled_from"):
            note = (f"MACCROBAT {a['source_type']} {tid} relabelled PATHOGEN (dictionary: {a.get('pathogen_source')}"
                    f" {a.get('taxid', '')})".replace(" )", ")"))
        elif a.get("source_type") == "pathogen-dictionary":
            note = f"pathogen dictionary: {a.get('pathogen_source')} {a.get('taxid', '')}".rstrip()
            if a.get("split_from"):
                note += f"; split from MACCROBAT {a['split_from']}"
        elif a.get("source_type") == "review":
            note = f"added by review decision {a.get('decision')}: {a.get('reason', '')}".rstrip(": ")
        if a.get("review_flag"):
            note += f"; flag: {a['review_flag']}"
        if note:
            a["note"] = note
        out.append(s.evolve(attrs=a))
    return doc.with_spans(out)


# ---------------------------------------------------------------- writing

ANNOTATION_CONF = """# brat configuration for corpus/imd-cases/ann (twelve classes of docs/guidelines.md)
[entities]
{entities}

[relations]
<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>

[events]

[attributes]
negated\tArg:<ENTITY>
uncertain\tArg:<ENTITY>
"""


def ann_document(doc: Document) -> Document:
    """The document as written: T id = source id, ``negated``/``uncertain`` A lines, the evidence note."""
    spans = []
    for s in doc.spans:
        attrs: dict[str, Any] = {"id": s.attrs.get("source_id")}
        for k in ("negated", "uncertain"):
            if s.attrs.get(k):
                attrs[k] = True
        if s.attrs.get("note"):
            attrs["note"] = s.attrs["note"]
        spans.append(Span(s.start, s.end, s.label, attrs=attrs, fragments=_line_fragments(doc.text, s)))
    return Document(doc.id, doc.text, tuple(spans))


def _line_fragments(text: str, span: Span) -> tuple[tuple[int, int], ...] | None:
    """A span that crosses a line break (one MACCROBAT case, "H.\\ncinaedi") is written as fragments split at
    the break — a brat T line cannot hold a line break; its extent stays the whole [start, end)."""
    piece = text[span.start:span.end]
    if "\n" not in piece and "\r" not in piece:
        return None
    frags = [(span.start + m.start(), span.start + m.end()) for m in re.finditer(r"[^\r\n]+", piece)]
    return tuple(frags) if len(frags) > 1 else None


def format_ann_text(doc: Document) -> str:
    from imner.io.brat import format_ann

    return format_ann(ann_document(doc))


def write_ann(result: BuildResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    keep = {f"{d.id}.ann" for d in result.docs}
    for old in out_dir.glob("*.ann"):
        if old.name not in keep:
            old.unlink()
    for d in result.docs:
        p = out_dir / f"{d.id}.ann"
        p.write_text(format_ann_text(d), encoding="utf-8", newline="")
        written.append(p)
    (out_dir / "annotation.conf").write_text(ANNOTATION_CONF.format(entities="\n".join(LABEL_NAMES)),
                                             encoding="utf-8")
    return written


def check_ann(result: BuildResult, out_dir: Path) -> list[str]:
    """Documents whose committed .ann differs from a fresh build."""
    bad = []
    for d in result.docs:
        p = out_dir / f"{d.id}.ann"
        if not p.exists() or p.read_text(encoding="utf-8") != format_ann_text(d):
            bad.append(d.id)
    return bad


def _clean(v: Any) -> str:
    return " ".join(str(v).split())


def _write_tsv(path: Path, header: list[str], rows: Iterable[list[Any]], comment: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for line in comment.strip().splitlines():
            fh.write(f"# {line}\n")
        w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        w.writerow(header)
        for r in rows:
            w.writerow([_clean(v) for v in r])


def _read_reviewer_columns(path: Path, key_cols: tuple[str, ...]) -> dict[tuple, dict[str, str]]:
    """``decision``/``reason`` already filled in an existing review file, by key."""
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE)
        return {tuple(r[c] for c in key_cols): {"decision": r.get("decision") or "", "reason": r.get("reason") or ""}
                for r in rows if (r.get("decision") or r.get("reason"))}


DISEASE_REVIEW_HEADER = ["doc_id", "tid", "start", "end", "mention", "sentence", "pre_label", "confidence",
                         "evidence", "context", "final", "decision", "reason"]
PATHOGEN_REVIEW_HEADER = ["doc_id", "start", "end", "mention", "sentence", "source", "action", "flag", "decision",
                          "reason"]


def write_review(result: BuildResult, review_dir: Path, source: dict[str, Document] | None = None) -> None:
    """The review files (keeping what reviewers already wrote in ``decision``/``reason``)."""
    source = source if source is not None else source_documents()
    dpath = review_dir / "diseases.tsv"
    old = _read_reviewer_columns(dpath, ("doc_id", "tid"))
    rows = []
    for r in result.disease_rows:
        prev = old.get((r.doc_id, r.tid), {})
        decision = prev.get("decision") or (r.decision.label if r.decision else "")
        reason = prev.get("reason") or (r.decision.reason if r.decision else "")
        rows.append([r.doc_id, r.tid, r.start, r.end, r.mention, r.sentence, r.pre.label, r.pre.confidence,
                     r.pre.evidence, r.context, r.final, decision, reason])
    _write_tsv(dpath, DISEASE_REVIEW_HEADER, rows,
               "One row per MACCROBAT Disease_disorder mention. pre_label/confidence/evidence: automatic first pass\n"
               "(imner_dev.annotation.disease_class); context: mechanism words and organisms in the sentence; final: the\n"
               "label in ann/ now. Reviewers fill decision (a disease class, or 'ok' = pre_label) and reason, then run\n"
               "`python -m imner_dev.annotation.build --collect-review` and rebuild. Regenerated by the build (decision and\n"
               "reason columns are kept).")

    terms: dict[str, dict[str, Any]] = {}
    for r in result.disease_rows:
        key = dc.norm(r.mention)
        t = terms.setdefault(key, {"count": 0, "labels": Counter(), "conf": Counter(), "evidence": r.pre.evidence,
                                   "docs": set(), "example": r.mention})
        t["count"] += 1
        t["labels"][r.pre.label] += 1
        t["conf"][r.pre.confidence] += 1
        t["docs"].add(r.doc_id)
    _write_tsv(review_dir / "disease_terms.tsv",
               ["term", "example", "count", "docs", "pre_label", "confidence", "evidence"],
               ([k, t["example"], t["count"], len(t["docs"]),
                 ",".join(f"{lab}:{n}" if len(t["labels"]) > 1 else lab for lab, n in t["labels"].most_common()),
                 ",".join(c for c, _ in t["conf"].most_common()), t["evidence"]]
                for k, t in sorted(terms.items(), key=lambda kv: (-kv[1]["count"], kv[0]))),
               "Unique normalized Disease_disorder mentions with counts and pre-labels (several labels when context,\n"
               "e.g. a document abbreviation, differs between mentions). Decide per term, then check each mention's\n"
               "context in diseases.tsv.")

    ppath = review_dir / "pathogens.tsv"
    oldp = _read_reviewer_columns(ppath, ("doc_id", "start", "end"))
    prow = []
    for r in result.pathogen_rows:
        text = source[r.doc_id].text
        bounds = split_sentences(text)
        prev = oldp.get((r.doc_id, str(r.start), str(r.end)), {})
        prow.append([r.doc_id, r.start, r.end, r.mention, _sentence(text, bounds, r.start),
                     f"{r.source} {r.taxid}".strip(), r.action, r.flag, prev.get("decision", ""),
                     prev.get("reason", "")])
    _write_tsv(ppath, PATHOGEN_REVIEW_HEADER, prow,
               "Every pathogen-dictionary match. action: added (new PATHOGEN span), added-as-disease (rule 6, disease\n"
               "context), relabelled (a MACCROBAT span that is the organism), split (organism prefix of a disease span),\n"
               "recorded (nothing changed: inside or overlapping another span). flag: what to check. Edits go to\n"
               "decisions/pathogens.tsv (add/remove rows).")

    _write_tsv(review_dir / "projection.tsv", ["doc_id", "kind", "source_id", "label", "start", "end", "text",
                                               "other_id", "detail"],
               ([r.doc_id, r.kind, r.source_id, r.label, r.start, r.end, r.text, r.other_id, r.detail]
                for r in result.resolutions),
               "Every discontinuous-span and overlap resolution the projection took (imner_dev.annotation.projection).")


def collect_review(review_dir: Path, decisions_dir: Path) -> int:
    """Merge the ``decision``/``reason`` columns of review/diseases.tsv into decisions/diseases.tsv.
    ``ok`` (or ``=``) means the pre-label. Returns the number of decisions written."""
    path = review_dir / "diseases.tsv"
    if not path.exists():
        raise InputError("no review file; run the build first", source=str(path))
    out_path = decisions_dir / "diseases.tsv"
    existing: dict[tuple[str, str], list[str]] = {}
    if out_path.exists():
        with open(out_path, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t",
                                    quoting=csv.QUOTE_NONE):
                existing[(r["doc_id"], r["tid"])] = [r["doc_id"], r["tid"], r["label"], r.get("reason") or ""]
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    for n, r in enumerate(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
        dec = (r.get("decision") or "").strip()
        if not dec:
            continue
        label = r["pre_label"] if dec.lower() in ("ok", "=") else dec
        if label not in (dc.IMMUNE, dc.INFECTIOUS, dc.OTHER):
            raise InputError(f"decision {dec!r}: allowed are ok, =, {dc.IMMUNE}, {dc.INFECTIOUS}, {dc.OTHER}",
                             source=str(path), line=n)
        existing[(r["doc_id"], r["tid"])] = [r["doc_id"], r["tid"], label, r.get("reason") or ""]
    decisions_dir.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        w.writerow(["doc_id", "tid", "label", "reason"])
        for key in sorted(existing, key=lambda k: (k[0], int(re.sub(r"\D", "", k[1]) or 0))):
            w.writerow([_clean(v) for v in existing[key]])
    return len(existing)


def summary(result: BuildResult) -> dict[str, Any]:
    per_label = Counter(s.label for d in result.docs for s in d.spans)
    return {
        "documents": len(result.docs),
        "entities": sum(per_label.values()),
        "entities_per_label": dict(sorted(per_label.items(), key=lambda kv: (-kv[1], kv[0]))),
        "disease_review_rows": len(result.disease_rows),
        "pre_labels": dict(Counter(r.pre.label for r in result.disease_rows)),
        "pre_label_confidence": dict(Counter(r.pre.confidence for r in result.disease_rows)),
        "pathogen_review_rows": len(result.pathogen_rows),
        "pathogen_actions": dict(Counter(r.action for r in result.pathogen_rows)),
        "resolutions": dict(Counter(r.kind for r in result.resolutions)),
        "decisions_applied": dict(result.decisions_applied),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m imner_dev.annotation.build", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus-dir", type=Path, default=None, help="default: corpus/imd-cases of the checkout")
    p.add_argument("--check", action="store_true", help="rebuild in memory; exit 1 if the committed .ann differ")
    p.add_argument("--no-review", action="store_true", help="do not rewrite the review files")
    p.add_argument("--collect-review", action="store_true",
                   help="copy reviewers' decisions from review/diseases.tsv into decisions/diseases.tsv first")
    p.add_argument("--refresh-prelabels", action="store_true",
                   help="recompute the frozen disease pre-labels (prelabels.tsv) first (only on purpose: "
                        "changes the first pass under the review)")
    args = p.parse_args(argv)
    cdir = args.corpus_dir or corpus_dir()
    if args.collect_review:
        n = collect_review(cdir / "review", cdir / "decisions")
        print(f"{n} disease decisions in {cdir / 'decisions' / 'diseases.tsv'}", file=sys.stderr)
    ppath = cdir / "prelabels.tsv"
    source = source_documents()
    if args.refresh_prelabels or not ppath.exists():
        write_prelabels(compute_prelabels(source), source, ppath)
        print(f"wrote {ppath}", file=sys.stderr)
    result = build(decisions_dir=cdir / "decisions", source=source, prelabels=read_prelabels(ppath, source))
    if args.check:
        bad = check_ann(result, cdir / "ann")
        if bad:
            print(f"{len(bad)} .ann files differ from a fresh build: {', '.join(bad[:10])}"
                  f"{' ...' if len(bad) > 10 else ''}; run python -m imner_dev.annotation.build", file=sys.stderr)
            return 1
        print(f"all {len(result.docs)} .ann files match the build", file=sys.stderr)
        return 0
    write_ann(result, cdir / "ann")
    if not args.no_review:
        write_review(result, cdir / "review")
    print(json.dumps(summary(result), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
