"""Assertion of gold entity spans (imner.context) on three development sets, with medspaCy ConText beside it.

Every set has a part the rules were tuned on and a held-out part they never were; the held-out part is what the
docs report. Attributes: negated, uncertain, hypothetical, historical, experiencer (someone other than the
patient: P/R/F1 where a predicted non-patient experiencer counts only when its value is right), family.

**MACCROBAT2020** (case reports), gold from its event attribute ``POLARITY`` (read onto the trigger span by
``imner.io.brat``): negated = ``NEG``; uncertain = ``UNCERTAIN``, ``MAYBE_POS`` or ``MAYBE_NEG``. MACCROBAT does
not tell uncertain from hypothetical (a planned biopsy is ``UNCERTAIN``), so its ``uncertain_or_hypothetical`` row
scores the union of imner's two attrs against it. ``MAYBE_NEG`` ("may have resolved") is *not* counted as negated
in the main rows; ``negated_incl_maybe_neg`` counts it too. Historical and family have no MACCROBAT attribute:
``historical_proxy`` / ``family_proxy`` score them against "target span lies inside a gold ``History`` /
``Family_history`` span", which covers only part of what the attrs mean (indicative only). Span sets:
``mapped`` (gold spans of the types that map to the 12 classes, relabelled; ANATOMY, LAB_VALUE, SEVERITY, TEMPORAL
left unasserted), ``all_types`` (every gold span with its MACCROBAT type; concept/event types asserted,
modifiers not), ``all_types_every_span`` (every span asserted). Documents: ``tune`` = md5(id) mod 10 in 2..9,
``heldout`` = mod 10 in {0, 1}.

**Chia** (clinical-trial eligibility criteria, ``$IMNER_DATA/chia/chia_with_scope.zip``, read from the zip):
targets are its Condition, Drug, Procedure, Device, Observation and Measurement entities (mapped to imner labels,
:data:`CHIA_LABELS`); negated = the entity, or a ``Scope`` holding it, is ``Arg1`` of a ``Has_negation`` relation;
``mood`` = the same for ``Has_mood``. Chia's Mood mixes hypothetical cues ("planned", "scheduled for",
"requiring") with uncertain ones ("suspected") and others ("evidence of"), so ``mood`` is scored against
``hypothetical`` and against ``hypothetical or uncertain``. Chia's negation also covers exclusions ("other than",
"except"), which ConText treats as scope ends: ``negated_negation_word`` keeps only the negations whose cue is a
negation word (:data:`NEGATION_WORDS`). Trials: held-out = md5(NCT id) mod 10 in {0, 1}.

**Sentences written for imner** (``benchmarks/data/assertion_sentences/{tune,heldout}.txt``: notes with
sections, history, plans and instructions, relatives, donors, other people, the issue's error kinds): written
before the rules were changed for them; the held-out file is never used for tuning.

**Speed**: imner and medspaCy 1.3.1 ConText (default rules, a blank English pipeline with spaCy's sentencizer,
the same gold spans as a span group) on all MACCROBAT documents (mapped setting), each run five times in the
same process, interleaved; ratios of the best CPU times, end to end (tokenization and sentence splitting
included on both sides) and for the assertion step alone (tokens and sentences made beforehand, as after a
tagger in each library's pipeline).

The medspaCy rows score medspaCy's own attributes (``is_negated``, ``is_uncertain``, ``is_hypothetical``,
``is_historical``, ``is_family``) with the same gold, as a reference point; its rules were not tuned on any of
these sets either.

Run: ``python benchmarks/assertion.py`` (writes benchmarks/results/assertion.{json,md}); ``--errors FILE``
writes the errors on the *tune* parts for rule tuning; ``--no-medspacy`` skips the peer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable

from imner.config import data_path
from imner.context import ContextAnnotator
from imner.io.brat import read_brat
from imner.text import tokenize
from imner.types import Document, Span

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head as git_commit, machine  # noqa: E402, F401  (patient.py imports both from here)

RESULTS = Path(__file__).resolve().parent / "results"
SENTENCES = Path(__file__).resolve().parent / "data" / "assertion_sentences"

#: MACCROBAT type -> imner label (the 12 classes); the disease label chosen is irrelevant here
MAPPED = {
    "Disease_disorder": "OTHER_DISEASE", "Sign_symptom": "SIGN_SYMPTOM", "Biological_structure": "ANATOMY",
    "Diagnostic_procedure": "DIAGNOSTIC_PROCEDURE", "Lab_value": "LAB_VALUE", "Medication": "MEDICATION",
    "Therapeutic_procedure": "THERAPEUTIC_PROCEDURE", "Severity": "SEVERITY", "Date": "TEMPORAL",
    "Duration": "TEMPORAL", "Time": "TEMPORAL", "Frequency": "TEMPORAL",
}
#: MACCROBAT concept/event types that carry an assertion (everything else is a modifier of these)
TARGET_TYPES = frozenset({"Disease_disorder", "Sign_symptom", "Diagnostic_procedure", "Medication",
                          "Therapeutic_procedure", "Clinical_event", "Activity", "Coreference", "Outcome",
                          "Other_event"})
#: Chia entity type -> imner label
CHIA_LABELS = {"Condition": "OTHER_DISEASE", "Drug": "MEDICATION", "Procedure": "THERAPEUTIC_PROCEDURE",
               "Device": "THERAPEUTIC_PROCEDURE", "Observation": "SIGN_SYMPTOM",
               "Measurement": "DIAGNOSTIC_PROCEDURE"}
#: Chia negation cues counted as negation words (the first word of the cue, lower case)
NEGATION_WORDS = frozenset({"no", "not", "without", "never", "absence", "absent", "lack", "lacking", "free", "non",
                            "non-", "negative", "none", "neither", "nor", "denies", "denied", "cannot", "unable",
                            "inability", "do", "does", "did", "is", "are", "has", "have", "had"})
#: codes of the sentence files
CODES = {"DIS": "OTHER_DISEASE", "INF": "INFECTIOUS_DISEASE", "IMM": "IMMUNE_DISEASE", "SS": "SIGN_SYMPTOM",
         "DP": "DIAGNOSTIC_PROCEDURE", "TP": "THERAPEUTIC_PROCEDURE", "MED": "MEDICATION", "PATH": "PATHOGEN"}
TAGS = {"neg": ("negated", True), "unc": ("uncertain", True), "hyp": ("hypothetical", True),
        "hist": ("historical", True), "fam": ("experiencer", "family"), "donor": ("experiencer", "donor"),
        "other": ("experiencer", "other")}
ATTRS = ("negated", "uncertain", "hypothetical", "historical", "experiencer", "family")
SUBSETS = ("tune", "heldout", "all")


def subset_of(doc_id: str) -> str:
    return "heldout" if int(hashlib.md5(doc_id.encode()).hexdigest(), 16) % 10 in (0, 1) else "tune"


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn,
            "support": tp + fn}


class Scorer:
    """Counts per subset and attribute; a value is "positive" when it is not False / None / "patient"."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = tuple(keys)
        self.counts = {sub: {k: [0, 0, 0] for k in self.keys} for sub in SUBSETS}
        self.spans = dict.fromkeys(SUBSETS, 0)

    def add(self, sub: str, gold: dict[str, Any], pred: dict[str, Any]) -> list[str]:
        """Adds one span; returns the keys it got wrong."""
        wrong = []
        for where in (sub, "all"):
            self.spans[where] += 1
        for k in self.keys:
            g, p = gold[k], pred[k]
            gpos, ppos = g not in (False, None, "patient"), p not in (False, None, "patient")
            for where in (sub, "all"):
                c = self.counts[where][k]
                if gpos and ppos and g == p:
                    c[0] += 1
                else:
                    c[1] += ppos
                    c[2] += gpos
            if (gpos or ppos) and g != p:
                wrong.append(k)
        return wrong

    def result(self) -> dict:
        return {sub: {"spans": self.spans[sub], **{k: prf(*self.counts[sub][k]) for k in self.keys}}
                for sub in SUBSETS}


def imner_attrs(span: Span) -> dict[str, Any]:
    a = span.attrs
    return {"negated": bool(a.get("negated")), "uncertain": bool(a.get("uncertain")),
            "hypothetical": bool(a.get("hypothetical")), "historical": bool(a.get("historical")),
            "experiencer": a.get("experiencer", "patient"), "family": bool(a.get("family"))}


def context_line(doc: Document, s: Span, pred: dict) -> str:
    ls = doc.text.rfind("\n", 0, s.start) + 1
    le = doc.text.find("\n", s.end)
    le = len(doc.text) if le < 0 else le
    cues = [c["text"] + "/" + str(c["category"]) for c in s.attrs.get("context_cues", [])]
    return f"{doc.text[ls:s.start]}[[{doc.text[s.start:s.end]}]]{doc.text[s.end:le]} | cues={cues}"


# -------------------------------------------------------------------------------------------- MACCROBAT

def maccrobat_gold(span: Span, hist: list[Span], fam: list[Span]) -> dict[str, bool]:
    pol = span.attrs.get("POLARITY")
    inside = lambda cs: any(c.start <= span.start and span.end <= c.end for c in cs)  # noqa: E731
    return {"negated": pol == "NEG", "uncertain": pol in ("UNCERTAIN", "MAYBE_POS", "MAYBE_NEG"),
            "uncertain_or_hypothetical": pol in ("UNCERTAIN", "MAYBE_POS", "MAYBE_NEG"),
            "negated_incl_maybe_neg": pol in ("NEG", "MAYBE_NEG"), "historical_proxy": inside(hist),
            "family_proxy": inside(fam)}


MACCROBAT_KEYS = ("negated", "uncertain", "uncertain_or_hypothetical", "negated_incl_maybe_neg",
                  "historical_proxy", "family_proxy")


def prepare_maccrobat(docs: list[Document], setting: str) -> list[tuple[Document, list[Span], list[Span]]]:
    out = []
    for doc in docs:
        hist = [s for s in doc.spans if s.label == "History"]
        fam = [s for s in doc.spans if s.label == "Family_history"]
        if setting == "mapped":
            doc = doc.with_spans(s.evolve(label=MAPPED[s.label]) for s in doc.spans if s.label in MAPPED)
        else:
            doc = doc.with_spans(s for s in doc.spans if s.label not in ("History", "Family_history"))
        out.append((doc, hist, fam))
    return out


def evaluate_maccrobat(docs: list[Document], setting: str, kwargs: dict, errors: list | None = None) -> dict:
    if setting == "mapped":
        ann = ContextAnnotator(**kwargs)
    elif setting == "all_types":
        ann = ContextAnnotator(**kwargs, label_map=MAPPED,
                               skip_labels={s.label for d in docs for s in d.spans} - TARGET_TYPES)
    else:
        ann = ContextAnnotator(**kwargs, label_map=MAPPED, skip_labels=())
    scorer = Scorer(MACCROBAT_KEYS)
    for doc, hist, fam in prepare_maccrobat(docs, setting):
        out = ann(doc)
        sub = subset_of(doc.id)
        for s in out.spans:
            a = imner_attrs(s)
            pred = {"negated": a["negated"], "uncertain": a["uncertain"],
                    "uncertain_or_hypothetical": a["uncertain"] or a["hypothetical"],
                    "negated_incl_maybe_neg": a["negated"], "historical_proxy": a["historical"],
                    "family_proxy": a["family"]}
            wrong = scorer.add(sub, maccrobat_gold(s, hist, fam), pred)
            if errors is not None and sub == "tune":
                for k in wrong:
                    if k in ("negated", "uncertain_or_hypothetical"):
                        errors.append(f"maccrobat {'FP' if pred[k] else 'FN'} {k} {s.label} {doc.id} | "
                                      f"{context_line(doc, s, pred)} gold={s.attrs.get('POLARITY')}")
    return scorer.result()


# ------------------------------------------------------------------------------------------------- Chia

def read_chia(path: Path) -> list[tuple[Document, dict[int, dict[str, Any]]]]:
    """(document, gold per span index) for every .txt/.ann pair in the zip; malformed .ann lines skipped."""
    out = []
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".ann"))
        for name in names:
            txt = z.read(name[:-4] + ".txt").decode("utf-8")
            ents: dict[str, tuple[str, int, int]] = {}
            rels: list[tuple[str, str, str]] = []
            for line in io.StringIO(z.read(name).decode("utf-8")):
                parts = line.rstrip("\n").split("\t")
                if line.startswith("T") and len(parts) >= 3 and " " in parts[1]:
                    typ, offs = parts[1].split(" ", 1)
                    try:
                        frags = [tuple(map(int, f.split())) for f in offs.split(";")]
                    except ValueError:
                        continue
                    ents[parts[0]] = (typ, min(f[0] for f in frags), max(f[1] for f in frags))
                elif line.startswith("R") and len(parts) >= 2:
                    bits = parts[1].split()
                    if len(bits) == 3 and bits[1].startswith("Arg1:") and bits[2].startswith("Arg2:"):
                        rels.append((bits[0], bits[1][5:], bits[2][5:]))
            targets = {tid: e for tid, e in ents.items() if e[0] in CHIA_LABELS}
            marked: dict[str, dict[str, Any]] = {tid: {"negated": False, "negated_negation_word": False,
                                                       "mood": False} for tid in targets}
            for rel, a1, a2 in rels:
                if rel not in ("Has_negation", "Has_mood") or a1 not in ents or a2 not in ents:
                    continue
                cue = txt[ents[a2][1]:ents[a2][2]].lower().split()
                word = bool(cue) and (cue[0] in NEGATION_WORDS or cue[0].startswith("non"))
                typ, s, e = ents[a1]
                hit = [a1] if a1 in targets else []
                if typ == "Scope":
                    hit = [t for t, (_, ts, te) in targets.items() if s <= ts and te <= e]
                for t in hit:
                    if rel == "Has_negation":
                        marked[t]["negated"] = True
                        marked[t]["negated_negation_word"] |= word
                    else:
                        marked[t]["mood"] = True
            order = sorted(targets, key=lambda t: (targets[t][1], targets[t][2], CHIA_LABELS[targets[t][0]], t))
            spans = [Span(targets[t][1], targets[t][2], CHIA_LABELS[targets[t][0]]) for t in order]
            doc_id = name.rsplit("/", 1)[-1][:-4]
            doc = Document(doc_id, txt, spans)
            assert list(doc.spans) == spans, "Document reordered the spans"
            out.append((doc, {i: marked[t] for i, t in enumerate(order)}))
    return out


CHIA_KEYS = ("negated", "negated_negation_word", "mood_as_hypothetical", "mood_as_hypothetical_or_uncertain")


def chia_subset(doc_id: str) -> str:
    return subset_of(doc_id.split("_")[0])


def evaluate_chia(chia, predict: Callable[[Document], list[dict[str, Any]]], errors: list | None = None) -> dict:
    scorer = Scorer(CHIA_KEYS)
    for doc, gold in chia:
        sub = chia_subset(doc.id)
        for i, a in enumerate(predict(doc)):
            g = gold[i]
            pred = {"negated": a["negated"], "negated_negation_word": a["negated"],
                    "mood_as_hypothetical": a["hypothetical"],
                    "mood_as_hypothetical_or_uncertain": a["hypothetical"] or a["uncertain"]}
            gd = {"negated": g["negated"], "negated_negation_word": g["negated_negation_word"],
                  "mood_as_hypothetical": g["mood"], "mood_as_hypothetical_or_uncertain": g["mood"]}
            if not g["negated_negation_word"] and g["negated"]:  # an exclusion ("other than"): not scored there
                gd["negated_negation_word"] = pred["negated_negation_word"] = False
            wrong = scorer.add(sub, gd, pred)
            if errors is not None and sub == "tune":
                s = doc.spans[i]
                for k in wrong:
                    if k in ("negated_negation_word", "mood_as_hypothetical"):
                        errors.append(f"chia {'FP' if pred[k] else 'FN'} {k} {s.label} {doc.id} | "
                                      f"{doc.text[max(0, s.start - 60):s.start]}[[{doc.text[s.start:s.end]}]]"
                                      f"{doc.text[s.end:s.end + 40]}")
    return scorer.result()


# -------------------------------------------------------------------------------------------- sentences

_MARK = re.compile(r"\[([^\[\]|]+)\|([A-Z]+)((?: [a-z]+)*)\]")


def read_sentences(path: Path) -> list[tuple[Document, list[dict[str, Any]]]]:
    """Documents of a sentence file (see its header) with the gold attrs of each span."""
    docs: list[tuple[Document, list[dict[str, Any]]]] = []
    doc_id, lines = None, []

    def flush() -> None:
        if doc_id is None:
            return
        raw = "\n".join(lines).strip("\n")
        text, spans, gold, pos = [], [], [], 0
        n = 0
        for m in _MARK.finditer(raw):
            text.append(raw[pos:m.start()])
            n += m.start() - pos
            mention, code, tags = m.group(1), m.group(2), m.group(3).split()
            if code not in CODES or any(t not in TAGS for t in tags):
                raise ValueError(f"{path}: document {doc_id}: bad mark {m.group()!r}")
            spans.append(Span(n, n + len(mention), CODES[code]))
            g: dict[str, Any] = {"negated": False, "uncertain": False, "hypothetical": False, "historical": False,
                                 "experiencer": "patient"}
            for t in tags:
                attr, value = TAGS[t]
                g[attr] = value
            g["family"] = g["experiencer"] == "family"
            gold.append(g)
            text.append(mention)
            n += len(mention)
            pos = m.end()
        text.append(raw[pos:])
        full = "".join(text)
        if "[" in full and "|" in full:
            raise ValueError(f"{path}: document {doc_id}: an unparsed mark is left in {full!r}")
        docs.append((Document(doc_id, full, spans), gold))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            flush()
            doc_id, lines = line[4:].strip(), []
        elif line.startswith("#"):
            continue
        elif doc_id is not None:
            lines.append(line)
    flush()
    return docs


def evaluate_sentences(parts: dict[str, list], predict: Callable[[Document], list[dict[str, Any]]],
                       errors: list | None = None) -> dict:
    scorer = Scorer(ATTRS)
    for sub, docs in parts.items():
        for doc, gold in docs:
            for i, a in enumerate(predict(doc)):
                wrong = scorer.add(sub, gold[i], a)
                if errors is not None and sub == "tune":
                    s = doc.spans[i]
                    for k in wrong:
                        errors.append(f"sentences {'FP' if a[k] not in (False, 'patient') else 'FN'} {k} "
                                      f"{s.label} {doc.id} | gold={gold[i][k]} pred={a[k]} | "
                                      f"{context_line(doc, s, a)}")
    return scorer.result()


# ------------------------------------------------------------------------------------------ medspaCy

class MedspacyContext:
    """medspaCy 1.3.1's ConText with its default rules on given spans (a blank English pipeline)."""

    def __init__(self) -> None:
        try:
            import spacy
            import medspacy  # noqa: F401  (registers the factory)
        except ImportError as e:
            raise SystemExit(f"medspaCy is not importable ({e}); install it with `pip install --no-deps "
                             "medspacy==1.3.1` beside spaCy 3.8 (its metadata pins older versions), or run with "
                             "--no-medspacy") from None

        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer")
        self.nlp.add_pipe("medspacy_context", config={"input_span_type": "group"})

    def __call__(self, doc: Document) -> list[dict[str, Any]]:
        sdoc = self.nlp.make_doc(doc.text)
        spans = []
        for s in doc.spans:
            sp = sdoc.char_span(s.start, s.end, label=s.label, alignment_mode="expand")
            spans.append(sp)
        sdoc.spans["medspacy_spans"] = [sp for sp in spans if sp is not None]
        for _, proc in self.nlp.pipeline:
            sdoc = proc(sdoc)
        out = []
        for sp in spans:
            if sp is None:
                out.append(dict.fromkeys(ATTRS, False) | {"experiencer": "patient"})
                continue
            fam = bool(sp._.is_family)
            out.append({"negated": bool(sp._.is_negated), "uncertain": bool(sp._.is_uncertain),
                        "hypothetical": bool(sp._.is_hypothetical), "historical": bool(sp._.is_historical),
                        "experiencer": "family" if fam else "patient", "family": fam})
        return out


def imner_predict(ann: ContextAnnotator) -> Callable[[Document], list[dict[str, Any]]]:
    def predict(doc: Document) -> list[dict[str, Any]]:
        return [imner_attrs(s) for s in ann(doc).spans]
    return predict


def _best(fn: Callable[[], float], repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def step_chunks(docs: list[Document]) -> list[list[Document]]:
    """``docs`` in chunks that fit imner's sentence cache (:func:`imner.text.sentences_with_tokens`): the step is
    timed on a chunk whose sentences were just made, as after a tagger's batch. A chunk larger than the cache
    (it was 128 texts; 32 since text.py's commit 9b1db1a) would time the splitting again inside the step."""
    from imner.text import _CACHE_MAX_CHARS, _cached_sentences

    size = _cached_sentences.cache_info().maxsize or len(docs)
    if any(len(d.text) > _CACHE_MAX_CHARS for d in docs):
        raise SystemExit(f"a document is longer than the sentence cache's {_CACHE_MAX_CHARS} characters: the step "
                         "timing would include its splitting")
    return [docs[i:i + size] for i in range(0, len(docs), size)]


def speed(docs: list[Document], medspacy_ctx: MedspacyContext | None, repeats: int = 5) -> dict:
    """CPU seconds of both systems, end to end (text and spans in, attrs out) and for the assertion step alone
    (the tokens and sentences made beforehand, as each library's pipeline has them when the step runs)."""
    from imner.text import sentences_with_tokens

    ann = ContextAnnotator()
    docs = [d.with_spans(s.evolve(label=MAPPED[s.label]) for s in d.spans if s.label in MAPPED) for d in docs]
    n_tokens = sum(len(tokenize(d.text)) for d in docs)
    chunks = step_chunks(docs)

    def imner_end_to_end() -> float:
        c0 = time.process_time()
        ann.annotate(docs)
        return time.process_time() - c0

    def imner_step() -> float:
        total = 0.0
        for chunk in chunks:
            for d in chunk:
                sentences_with_tokens(d.text)
            c0 = time.process_time()
            ann.annotate(chunk)
            total += time.process_time() - c0
        return total

    res: dict[str, Any] = {"tokens": n_tokens, "spans": sum(len(d.spans) for d in docs), "repeats": repeats}
    runs: dict[str, Callable[[], float]] = {"imner_end_to_end": imner_end_to_end, "imner_step": imner_step}
    if medspacy_ctx is not None:
        asserted = [d.with_spans(s for s in d.spans if s.label not in ("ANATOMY", "LAB_VALUE", "SEVERITY",
                                                                        "TEMPORAL")) for d in docs]

        def medspacy_end_to_end() -> float:
            c0 = time.process_time()
            for d in asserted:
                medspacy_ctx(d)
            return time.process_time() - c0

        prepared = []
        for d in asserted:
            sdoc = medspacy_ctx.nlp.get_pipe("sentencizer")(medspacy_ctx.nlp.make_doc(d.text))
            sdoc.spans["medspacy_spans"] = [sp for sp in (sdoc.char_span(s.start, s.end, label=s.label,
                                                                          alignment_mode="expand")
                                                          for s in d.spans) if sp is not None]
            prepared.append(sdoc)
        context = medspacy_ctx.nlp.get_pipe("medspacy_context")

        def medspacy_step() -> float:
            c0 = time.process_time()
            for sdoc in prepared:
                context(sdoc)
            return time.process_time() - c0

        runs["medspacy_end_to_end"] = medspacy_end_to_end
        runs["medspacy_step"] = medspacy_step
    best = {k: float("inf") for k in runs}
    for _ in range(repeats):  # interleaved
        for k, fn in runs.items():
            best[k] = min(best[k], fn())
    for k, v in best.items():
        res[k] = {"cpu_seconds": round(v, 3), "cpu_tokens_per_s": round(n_tokens / v)}
    if medspacy_ctx is not None:
        res["ratio_end_to_end"] = round(best["medspacy_end_to_end"] / best["imner_end_to_end"], 1)
        res["ratio_step"] = round(best["medspacy_step"] / best["imner_step"], 1)
    res["note"] = (f"best CPU time of {repeats} interleaved runs over all MACCROBAT docs with their gold spans "
                   "(mapped setting; medspaCy gets the spans imner asserts, as a span group). End to end: "
                   "tokenization and sentence splitting included on both sides (imner's splitter, spaCy's "
                   "tokenizer and sentencizer). Step: the tokens and sentences made beforehand, only the "
                   "assertion component timed, as when it runs after a tagger in each library's pipeline")
    return res


# ---------------------------------------------------------------------------------------------- report

def table(rows: list[tuple[str, str, dict]], keys: Iterable[str]) -> list[str]:
    lines = ["| system | subset | attribute | spans | support | P | R | F1 |", "|---|---|---|---|---|---|---|---|"]
    for system, sub, r in rows:
        for k in keys:
            m = r[k]
            lines.append(f"| {system} | {sub} | {k} | {r['spans']} | {m['support']} | {m['precision']:.3f} | "
                         f"{m['recall']:.3f} | {m['f1']:.3f} |")
    return lines


def to_markdown(res: dict) -> str:
    lines = ["# Assertion on gold spans (imner.context), with medspaCy ConText beside it", "",
             f"- date: {res['date']}", f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
             f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
             "- every set has a tune part (the rules were tuned on it) and a held-out part (never used for "
             "tuning): read the held-out rows", ""]
    lines += ["## Targets (held-out parts)", "", "| measure | value | target |", "|---|---|---|"]
    for t in res["targets"]:
        lines.append(f"| {t['measure']} | {t['value']:.3f} | {t['target']} |")
    lines.append("")
    m = res["maccrobat"]
    lines += [f"## MACCROBAT2020 ({m['docs']} documents: tune {m['subset_docs']['tune']}, held-out "
              f"{m['subset_docs']['heldout']})", "",
              "Gold: negated = POLARITY NEG; uncertain = UNCERTAIN / MAYBE_POS / MAYBE_NEG (MACCROBAT does not "
              "separate hypothetical: see uncertain_or_hypothetical). historical/family rows are *proxies* "
              "(span inside a gold History / Family_history span).", ""]
    for setting, by_sub in m["results"].items():
        lines += [f"### {setting}", ""]
        rows = [("imner", sub, by_sub[sub]) for sub in SUBSETS]
        if setting == "mapped" and "medspacy" in m:
            rows += [("medspaCy", sub, m["medspacy"][sub]) for sub in ("heldout", "all")]
        lines += table(rows, MACCROBAT_KEYS) + [""]
    c = res["chia"]
    lines += [f"## Chia ({c['docs']} criteria files: tune {c['subset_docs']['tune']}, held-out "
              f"{c['subset_docs']['heldout']})", "",
              "negated: Has_negation on the entity or a Scope holding it; negated_negation_word: only those whose "
              "cue is a negation word (exclusions such as 'other than', 'except' left out); mood: Has_mood, "
              "scored against hypothetical and against hypothetical-or-uncertain.", ""]
    rows = [("imner", sub, c["imner"][sub]) for sub in SUBSETS]
    if "medspacy" in c:
        rows += [("medspaCy", sub, c["medspacy"][sub]) for sub in ("heldout", "all")]
    lines += table(rows, CHIA_KEYS) + [""]
    s = res["sentences"]
    lines += [f"## Sentences written for imner (tune {s['docs']['tune']} documents, held-out "
              f"{s['docs']['heldout']})", "",
              "experiencer: someone other than the patient, counted right only with the right value (family, "
              "donor, other); medspaCy has family only.", ""]
    rows = [("imner", sub, s["imner"][sub]) for sub in SUBSETS]
    if "medspacy" in s:
        rows += [("medspaCy", sub, s["medspacy"][sub]) for sub in ("heldout", "all")]
    lines += table(rows, ATTRS) + [""]
    sp = res["speed"]
    lines += ["## Speed", "", f"{sp['tokens']:,} tokens, {sp['spans']:,} spans; CPU seconds (tokens/s):", "",
              "| run | imner | medspaCy ConText | imner faster by |", "|---|---|---|---|"]
    for k, label in (("end_to_end", "end to end (tokenization + sentences + assertion)"),
                     ("step", "assertion step alone")):
        im = sp[f"imner_{k}"]
        ms = sp.get(f"medspacy_{k}")
        lines.append(f"| {label} | {im['cpu_seconds']} s ({im['cpu_tokens_per_s']:,}/s) | "
                     + (f"{ms['cpu_seconds']} s ({ms['cpu_tokens_per_s']:,}/s) | **{sp[f'ratio_{k}']}×** |"
                        if ms else "not run | |"))
    lines += ["", sp["note"] + ".", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--errors", type=Path, help="write the errors on the tune parts to this file")
    ap.add_argument("--no-medspacy", action="store_true", help="do not run medspaCy ConText")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write results/")
    args = ap.parse_args(argv)
    kwargs: dict = {"evidence": args.errors is not None}
    errors: list[str] | None = [] if args.errors else None
    msp = None if args.no_medspacy else MedspacyContext()

    docs = list(read_brat(data_path("maccrobat", "MACCROBAT2020")))
    mac = {"docs": len(docs), "subset_docs": {k: sum(subset_of(d.id) == k for d in docs) for k in ("tune", "heldout")},
           "results": {setting: evaluate_maccrobat(docs, setting, kwargs, errors if setting == "mapped" else None)
                       for setting in ("mapped", "all_types", "all_types_every_span")}}
    if msp is not None:
        scorer = Scorer(MACCROBAT_KEYS)
        for doc, hist, fam in prepare_maccrobat(docs, "mapped"):
            asserted = [i for i, s in enumerate(doc.spans) if s.label not in ("ANATOMY", "LAB_VALUE", "SEVERITY",
                                                                              "TEMPORAL")]
            preds = msp(doc.with_spans(doc.spans[i] for i in asserted))
            by_i = dict(zip(asserted, preds))
            for i, s in enumerate(doc.spans):
                a = by_i.get(i, dict.fromkeys(ATTRS, False))
                pred = {"negated": a["negated"], "uncertain": a["uncertain"],
                        "uncertain_or_hypothetical": a["uncertain"] or a["hypothetical"],
                        "negated_incl_maybe_neg": a["negated"], "historical_proxy": a["historical"],
                        "family_proxy": a["family"]}
                scorer.add(subset_of(doc.id), maccrobat_gold(s, hist, fam), pred)
        mac["medspacy"] = scorer.result()

    chia = read_chia(data_path("chia", "chia_with_scope.zip"))
    ann = ContextAnnotator(**kwargs)
    ch = {"docs": len(chia), "subset_docs": {k: sum(chia_subset(d.id) == k for d, _ in chia)
                                              for k in ("tune", "heldout")},
          "imner": evaluate_chia(chia, imner_predict(ann), errors)}
    if msp is not None:
        ch["medspacy"] = evaluate_chia(chia, msp)

    parts = {"tune": read_sentences(SENTENCES / "tune.txt"), "heldout": read_sentences(SENTENCES / "heldout.txt")}
    se = {"docs": {k: len(v) for k, v in parts.items()}, "imner": evaluate_sentences(parts, imner_predict(ann), errors)}
    if msp is not None:
        se["medspacy"] = evaluate_sentences(parts, msp)

    res = {
        "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "git_commit": git_commit(),
        "command": "python benchmarks/assertion.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "annotator": {"rules": "src/imner/resources/context_rules.json",
                      "sections": "src/imner/resources/section_rules.json", **kwargs},
        "maccrobat": mac, "chia": ch, "sentences": se, "speed": speed(docs, msp),
    }
    res["targets"] = [
        {"measure": "MACCROBAT held-out negation F1 (mapped)",
         "value": mac["results"]["mapped"]["heldout"]["negated"]["f1"], "target": "≥ 0.92"},
        {"measure": "Chia held-out negation F1, all Negation scopes", "value": ch["imner"]["heldout"]["negated"]["f1"],
         "target": "reported"},
        {"measure": "Chia held-out negation F1, negation-word cues",
         "value": ch["imner"]["heldout"]["negated_negation_word"]["f1"], "target": "reported"},
        {"measure": "Chia held-out Mood as hypothetical F1",
         "value": ch["imner"]["heldout"]["mood_as_hypothetical"]["f1"],
         "target": "reported (Chia's Mood is not only hypothetical)"},
        {"measure": "hypothetical F1, held-out sentences", "value": se["imner"]["heldout"]["hypothetical"]["f1"],
         "target": "≥ 0.80"},
        {"measure": "historical F1, held-out sentences", "value": se["imner"]["heldout"]["historical"]["f1"],
         "target": "≥ 0.80"},
        {"measure": "experiencer F1, held-out sentences", "value": se["imner"]["heldout"]["experiencer"]["f1"],
         "target": "reported"},
    ]
    if "ratio_step" in res["speed"]:
        res["targets"].append({"measure": "speed vs medspaCy ConText, assertion step (CPU-time ratio)",
                               "value": res["speed"]["ratio_step"], "target": "> 10"})
        res["targets"].append({"measure": "speed vs medspaCy ConText, end to end (CPU-time ratio)",
                               "value": res["speed"]["ratio_end_to_end"], "target": "reported"})
    for t in res["targets"]:
        print(f"{t['measure']:55s} {t['value']:.3f}  ({t['target']})")
    for name, r in (("sentences", se["imner"]), ("chia", ch["imner"]), ("maccrobat", mac["results"]["mapped"])):
        for sub in ("tune", "heldout"):
            print(f"{name:10s} {sub:8s} " + "  ".join(f"{k[:12]}={v['f1']:.3f}" for k, v in r[sub].items()
                                                       if isinstance(v, dict)))
    print("speed: " + ", ".join(f"{k} {v['cpu_tokens_per_s']} tokens/s CPU" for k, v in res["speed"].items()
                                if isinstance(v, dict)))
    if errors is not None:
        args.errors.write_text("\n".join(sorted(errors)) + "\n", encoding="utf-8")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "assertion.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n",
                                                encoding="utf-8")
        (RESULTS / "assertion.md").write_text(to_markdown(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
