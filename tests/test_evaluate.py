"""Tests of span evaluation (imner.evaluate) and the `imner evaluate` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imner import cli
from imner.errors import InputError
from imner.evaluate import CRITERIA, Counts, evaluate, span_f1
from imner.types import Document, Span, span_from_dict

FIXTURES = Path(__file__).parent / "fixtures" / "evaluate"
TEXT = "x" * 100


def doc(spans, id="d", text=TEXT):
    return Document(id, text, tuple(spans))


def S(start, end, label="X", fragments=None):
    return Span(start, end, label, fragments=fragments)


def counts(report, criterion, label=None):
    """(matched, FP, FN): matched is TP plus, under partial, the half-credit partial matches."""
    c = report.micro[criterion] if label is None else report.per_label[criterion][label]
    return (c.tp + c.partial, c.fp, c.fn)


# --- the four criteria, hand-computed ------------------------------------------------------------------

def test_wrong_label_same_boundaries():
    gold = [doc([S(0, 5, "X"), S(10, 15, "Y")])]
    pred = [doc([S(0, 5, "X"), S(10, 15, "X")])]
    r = evaluate(gold, pred, bootstrap=0)
    assert counts(r, "strict") == (1, 1, 1)
    assert counts(r, "exact") == (2, 0, 0)
    assert counts(r, "partial") == (2, 0, 0)
    assert counts(r, "type") == (1, 1, 1)
    # per label: TP/FN go to the gold label, FP to the predicted label
    assert counts(r, "strict", "X") == (1, 1, 0)
    assert counts(r, "strict", "Y") == (0, 0, 1)
    assert counts(r, "exact", "X") == (1, 0, 0)
    assert counts(r, "exact", "Y") == (1, 0, 0)
    s = r.per_label["strict"]["X"]
    assert (s.precision, s.recall, s.support) == (0.5, 1.0, 1)
    assert s.f1 == pytest.approx(2 / 3)


def test_overlap_criteria():
    gold = [doc([S(0, 10, "X"), S(20, 30, "X")])]
    pred = [doc([S(5, 15, "X"), S(25, 30, "Y")])]
    r = evaluate(gold, pred, bootstrap=0)
    assert counts(r, "strict") == (0, 2, 2)
    assert counts(r, "exact") == (0, 2, 2)
    assert counts(r, "partial") == (2, 0, 0)
    # both partial matches only overlap: half credit each, as nervaluate gives (COR + 0.5 PAR) / ACT
    p = r.micro["partial"]
    assert (p.tp, p.partial) == (0, 2) and (p.precision, p.recall, p.f1) == (0.5, 0.5, 0.5)
    assert counts(r, "type") == (1, 1, 1)
    assert r.micro["type"].f1 == pytest.approx(0.5)
    assert counts(r, "type", "Y") == (0, 1, 0)


def test_touching_spans_do_not_overlap():
    r = evaluate([doc([S(0, 5)])], [doc([S(5, 9)])], bootstrap=0)
    assert counts(r, "partial") == (0, 1, 1)


def test_matching_is_one_to_one():
    # two predictions inside one gold span: one TP, one FP
    r = evaluate([doc([S(0, 10)])], [doc([S(0, 5), S(5, 10)])], bootstrap=0)
    assert counts(r, "partial") == (1, 1, 0)
    assert counts(r, "type") == (1, 1, 0)
    # one prediction covering two gold spans: one TP, one FN
    r = evaluate([doc([S(0, 5), S(6, 10)])], [doc([S(0, 10)])], bootstrap=0)
    assert counts(r, "partial") == (1, 0, 1)
    # a duplicated prediction is one TP and one FP, also under strict
    r = evaluate([doc([S(0, 5)])], [doc([S(0, 5), S(0, 5)])], bootstrap=0)
    assert counts(r, "strict") == (1, 1, 0)


def test_matching_prefers_exact_boundaries_then_label_then_overlap():
    gold = [doc([S(0, 10, "X")])]
    # partial: the exact-boundary prediction wins although its label is wrong (both overlap by 10)
    r = evaluate(gold, [doc([S(0, 11, "X"), S(0, 10, "Y")])], bootstrap=0)
    assert counts(r, "partial", "X") == (1, 1, 0)   # the unmatched (0, 11) X is the FP
    assert counts(r, "partial", "Y") == (0, 0, 0)
    # type only accepts the same label
    assert counts(r, "type") == (1, 1, 0)
    assert counts(r, "type", "Y") == (0, 1, 0)
    # then the same label wins over a larger overlap
    r = evaluate(gold, [doc([S(0, 9, "Y"), S(2, 10, "X")])], bootstrap=0)
    assert counts(r, "partial", "X") == (1, 0, 0) and counts(r, "partial", "Y") == (0, 1, 0)
    # otherwise the larger overlap is matched
    two = [doc([S(0, 10, "X"), S(8, 20, "Y")])]
    r = evaluate(two, [doc([S(4, 12, "Z")])], bootstrap=0)
    assert counts(r, "partial", "X") == (1, 0, 0) and counts(r, "partial", "Y") == (0, 0, 1)
    r = evaluate(two, [doc([S(7, 14, "Z")])], bootstrap=0)
    assert counts(r, "partial", "X") == (0, 0, 1) and counts(r, "partial", "Y") == (1, 0, 0)


def test_discontinuous_spans_compare_by_fragments():
    gold = [doc([S(0, 12, fragments=((0, 3), (8, 12)))])]
    r = evaluate(gold, [doc([S(0, 12)])], bootstrap=0)
    assert counts(r, "strict") == (0, 1, 1)
    assert counts(r, "partial") == (1, 0, 0)
    r = evaluate(gold, [doc([S(4, 7)])], bootstrap=0)  # inside the gap
    assert counts(r, "partial") == (0, 1, 1)
    r = evaluate(gold, [doc([S(0, 12, fragments=((0, 3), (8, 12)))])], bootstrap=0)
    assert counts(r, "strict") == (1, 0, 0)


def test_empty_predictions_and_empty_gold():
    gold = [doc([S(0, 5, "X"), S(6, 9, "Y")])]
    r = evaluate(gold, [doc([])], bootstrap=0)
    for c in CRITERIA:
        assert counts(r, c) == (0, 0, 2)
        assert r.micro[c].precision == r.micro[c].recall == r.micro[c].f1 == 0.0
        assert r.macro[c].n_labels == 2
    r = evaluate([doc([])], gold, bootstrap=0)
    assert counts(r, "strict") == (0, 2, 0)
    assert r.micro["strict"].f1 == 0.0 and r.micro["strict"].support == 0
    r = evaluate([doc([])], [doc([])], bootstrap=0)
    assert r.labels == () and r.micro["strict"].f1 == 0.0 and r.macro["strict"].n_labels == 0
    r = evaluate([], [], bootstrap=100)
    assert r.n_docs == 0 and r.ci95["strict"] is None


def test_macro_is_mean_of_label_scores():
    gold = [doc([S(0, 5, "X"), S(10, 15, "Y"), S(20, 25, "Y")])]
    pred = [doc([S(0, 5, "X"), S(10, 15, "Y"), S(30, 35, "Z")])]
    r = evaluate(gold, pred, bootstrap=0)
    # X: P=R=F1=1; Y: P=1, R=.5, F1=2/3; Z (predicted only): 0
    m = r.macro["strict"]
    assert m.precision == pytest.approx((1 + 1 + 0) / 3)
    assert m.recall == pytest.approx((1 + 0.5 + 0) / 3)
    assert m.f1 == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert (m.support, m.n_labels) == (3, 3)
    assert counts(r, "strict") == (2, 1, 1)
    assert r.micro["strict"].f1 == pytest.approx(2 / 3)


def test_label_map_and_label_filter():
    gold = [doc([S(0, 5, "IMMUNE_DISEASE"), S(10, 15, "PATHOGEN")])]
    pred = [doc([S(0, 5, "INFECTIOUS_DISEASE"), S(10, 15, "PATHOGEN")])]
    collapse = {"IMMUNE_DISEASE": "Disease", "INFECTIOUS_DISEASE": "Disease"}
    r = evaluate(gold, pred, label_map=collapse, bootstrap=0)
    assert counts(r, "strict") == (2, 0, 0)
    assert r.labels == ("PATHOGEN", "Disease")
    r = evaluate(gold, pred, label_map=collapse, labels=["Disease"], bootstrap=0)
    assert r.labels == ("Disease",) and counts(r, "strict") == (1, 0, 0)
    # a requested label absent everywhere is reported but left out of the macro mean
    r = evaluate(gold, pred, labels=["PATHOGEN", "ANATOMY"], bootstrap=0)
    assert counts(r, "strict", "ANATOMY") == (0, 0, 0)
    assert r.macro["strict"].n_labels == 1 and r.macro["strict"].f1 == 1.0


def test_documents_are_paired_by_id():
    gold = [doc([S(0, 5)], id="a"), doc([S(0, 5)], id="b")]
    r = evaluate(gold, [doc([S(0, 5)], id="b")], bootstrap=0)
    assert counts(r, "strict") == (1, 0, 1)
    assert r.missing_pred == ("a",)
    assert "no predictions" in r.format_table()
    with pytest.raises(InputError, match="'zz'"):
        evaluate(gold, [doc([], id="zz")], bootstrap=0)
    with pytest.raises(InputError, match="duplicate"):
        evaluate(gold + [doc([], id="a")], [], bootstrap=0)
    with pytest.raises(InputError, match="differs from the gold text at character 3"):
        evaluate([Document("a", "abcdef")], [Document("a", "abcXef")], bootstrap=0)


def test_span_f1():
    assert span_f1([S(0, 5), S(6, 9)], [S(0, 5)]) == pytest.approx(2 / 3)
    assert span_f1([S(0, 5)], [S(1, 5)], criterion="partial") == 0.5  # half credit
    assert span_f1([S(0, 5)], [S(0, 5, "Y")], criterion="partial") == 1.0  # same boundaries: full credit
    assert span_f1([], []) == 0.0
    with pytest.raises(ValueError, match="criterion"):
        span_f1([], [], criterion="lenient")


def test_counts_zero_division():
    assert Counts().f1 == Counts().precision == Counts().recall == 0.0
    assert Counts(0, 3, 0).precision == 0.0


# --- bootstrap -------------------------------------------------------------------------------------------

def _many_docs(n=40):
    gold, pred = [], []
    for i in range(n):
        g = [S(0, 5), S(10, 15, "Y"), S(20, 30)]
        p = [S(0, 5), S(11, 15, "Y")] + ([S(20, 30)] if i % 3 else [S(40, 45)])
        gold.append(doc(g, id=str(i)))
        pred.append(doc(p, id=str(i)))
    return gold, pred


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    gold, pred = _many_docs()
    a = evaluate(gold, pred, bootstrap=300, seed=7)
    b = evaluate(gold, pred, bootstrap=300, seed=7)
    assert a.ci95 == b.ci95
    for c in CRITERIA:
        lo, hi = a.ci95[c]
        assert 0.0 <= lo <= a.micro[c].f1 <= hi <= 1.0
    lo, hi = a.ci95["strict"]
    assert lo < hi  # per-document scores vary, so the interval has width
    assert a.ci95["partial"][0] < 1.0
    assert evaluate(gold, pred, bootstrap=0).ci95 == {c: None for c in CRITERIA}
    with pytest.raises(ValueError):
        evaluate(gold, pred, bootstrap=-1)


# --- agreement with seqeval (conlleval mode) on a hand-made IOB fixture ------------------------------------

def _read_conlleval(path: Path):
    """The fixture has conlleval's columns: token, gold tag, predicted tag; a blank line ends a sentence.

    It is hand-made to exercise decoding corner cases: I- after O, adjacent entities (B-X B-X), B-X I-Y, I- at
    a sentence start (also right after an entity of the same label in the previous sentence), label confusion,
    a label only predicted (ANATOMY), missed entities. Documents (one per sentence) come from
    :func:`imner.io.conll.read_conll`; the raw tag sequences go to seqeval.
    """
    from imner.io.conll import read_conll

    y_true, y_pred, cur = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            cur.append(line.split())
        elif cur:
            y_true.append([r[1] for r in cur])
            y_pred.append([r[2] for r in cur])
            cur = []
    gold = list(read_conll(path, tag_col=1, sentences_as_docs=True))
    pred = list(read_conll(path, tag_col=2, sentences_as_docs=True))
    return gold, pred, y_true, y_pred


def test_strict_matches_seqeval_conlleval_mode():
    seqeval_metrics = pytest.importorskip("seqeval.metrics")
    gold, pred, y_true, y_pred = _read_conlleval(FIXTURES / "conlleval.iob")
    assert len(gold) == 21
    expected = seqeval_metrics.classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    r = evaluate(gold, pred, bootstrap=0)
    labels = {k for k in expected if not k.endswith(" avg")}
    assert set(r.labels) == labels
    for lab in labels:
        got = r.per_label["strict"][lab]
        assert got.precision == pytest.approx(expected[lab]["precision"]), lab
        assert got.recall == pytest.approx(expected[lab]["recall"]), lab
        assert got.f1 == pytest.approx(expected[lab]["f1-score"]), lab
        assert got.support == expected[lab]["support"], lab
    micro = r.micro["strict"]
    assert micro.precision == pytest.approx(expected["micro avg"]["precision"])
    assert micro.recall == pytest.approx(expected["micro avg"]["recall"])
    assert micro.f1 == pytest.approx(expected["micro avg"]["f1-score"])
    assert r.macro["strict"].f1 == pytest.approx(expected["macro avg"]["f1-score"])
    assert r.macro["strict"].precision == pytest.approx(expected["macro avg"]["precision"])
    assert 0 < micro.f1 < 1  # the fixture has errors of every kind, so this is no trivial agreement


def test_micro_counts_are_sums_of_label_counts():
    gold, pred, *_ = _read_conlleval(FIXTURES / "conlleval.iob")
    r = evaluate(gold, pred, bootstrap=0)
    for c in CRITERIA:
        rows = r.per_label[c].values()
        m = r.micro[c]
        assert (m.tp, m.fp, m.fn, m.partial) == tuple(sum(getattr(x, k) for x in rows)
                                                       for k in ("tp", "fp", "fn", "partial"))
    # the lenient criteria are at least as high as strict on this fixture
    assert r.micro["strict"].f1 < r.micro["exact"].f1 < r.micro["partial"].f1
    assert r.micro["strict"].f1 < r.micro["type"].f1
    # partial matches every pair type does (the label ignored), though an overlap only earns it half credit
    assert counts(r, "type")[0] <= counts(r, "partial")[0]


def test_report_serialisation():
    gold, pred = _many_docs(5)
    r = evaluate(gold, pred, bootstrap=50)
    d = json.loads(r.to_json())
    assert d["labels"] == ["X", "Y"]
    assert d["strict"]["micro"] == r.micro["strict"].to_dict()
    assert d["type"]["per_label"]["Y"]["f1"] == r.per_label["type"]["Y"].f1
    assert d["partial"]["ci95"] == list(r.ci95["partial"])
    table = r.format_table()
    lines = table.splitlines()
    assert any(line.startswith("X ") for line in lines)
    assert any(line.startswith("micro") for line in lines) and any(line.startswith("macro") for line in lines)
    assert "95% CI" in table
    assert f"{100 * r.micro['strict'].f1:.1f}" in table


# --- the command ----------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _only_present_commands(monkeypatch):
    """Other command modules may still be in the making; the CLI here needs just `evaluate`."""
    import importlib.util

    monkeypatch.setattr(cli, "COMMAND_MODULES",
                        tuple(m for m in cli.COMMAND_MODULES if importlib.util.find_spec(m) is not None))

def _read_jsonl(path, format=None, **_kw):
    docs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        docs.append(Document(rec["id"], rec["text"], tuple(span_from_dict(e) for e in rec["entities"])))
    return docs


def test_cli_gold_pred(monkeypatch, capsys, tmp_path):
    import imner.commands.evaluate as cmd

    seen = []
    monkeypatch.setattr(cmd, "_read", lambda path, fmt: seen.append(fmt) or _read_jsonl(path))
    out = tmp_path / "report.json"
    rc = cli.main(["evaluate", "--gold", str(FIXTURES / "gold.jsonl"), "--pred", str(FIXTURES / "pred.jsonl"),
                   "--format", "jsonl", "--pred-format", "brat", "--json", str(out), "--bootstrap", "200"])
    assert rc == 0
    assert seen == ["jsonl", "brat"]
    table = capsys.readouterr().out
    assert "micro" in table and "SIGN_SYMPTOM" in table and "95% CI" in table
    report = json.loads(out.read_text(encoding="utf-8"))
    # gold 6 spans, predictions 5: see the fixtures
    assert (report["strict"]["micro"]["tp"], report["strict"]["micro"]["fp"], report["strict"]["micro"]["fn"]) \
        == (3, 2, 3)
    assert report["exact"]["micro"]["f1"] == pytest.approx(8 / 11)
    # partial: 4 matches with the same boundaries + 1 overlap only (half credit) of 5 predicted, 6 gold
    assert report["partial"]["micro"]["f1"] == pytest.approx(9 / 11)
    assert report["type"]["micro"]["f1"] == pytest.approx(8 / 11)
    assert report["bootstrap"]["resamples"] == 200

    # --json - puts only JSON on stdout; --labels restricts
    rc = cli.main(["evaluate", "--gold", str(FIXTURES / "gold.jsonl"), "--pred", str(FIXTURES / "pred.jsonl"),
                   "--json", "-", "--labels", "MEDICATION,PATHOGEN", "--bootstrap", "0"])
    assert rc == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["labels"] == ["MEDICATION", "PATHOGEN"]
    assert report["strict"]["ci95"] is None
    assert "micro" in captured.err


def test_cli_option_errors(monkeypatch, capsys):
    import imner.commands.evaluate as cmd

    monkeypatch.setattr(cmd, "_read", lambda path, fmt: _read_jsonl(path))
    gold, pred = str(FIXTURES / "gold.jsonl"), str(FIXTURES / "pred.jsonl")
    assert cli.main(["evaluate", "--gold", gold, "--pred", pred, "--label-map", "A"]) == 1
    assert "OLD=NEW" in capsys.readouterr().err
    assert cli.main(["evaluate", "--gold", gold, "--pred", pred, "--split", "dev"]) == 1
    assert "--corpus" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: one gold source, one prediction source
        cli.main(["evaluate", "--gold", gold, "--corpus", "x", "--pred", pred])
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--gold", gold])


def test_cli_model_and_corpus(monkeypatch, capsys):
    """--corpus/--model route through imner.corpora.load and imner.taggers.load_tagger (both stubbed here)."""
    import sys
    import types

    import imner.taggers

    gold = _read_jsonl(FIXTURES / "gold.jsonl")
    calls = {}

    class Echo:
        def annotate(self, docs):
            calls["spans_seen"] = sum(len(d.spans) for d in docs)
            return [d.with_spans(g.spans) for d, g in zip(docs, gold)]

    fake_corpora = types.ModuleType("imner.corpora")
    fake_corpora.load = lambda name, split=None: calls.setdefault("load", (name, split)) and gold
    monkeypatch.setitem(sys.modules, "imner.corpora", fake_corpora)
    monkeypatch.setattr(imner, "corpora", fake_corpora, raising=False)
    monkeypatch.setattr(imner.taggers, "load_tagger", lambda d: calls.setdefault("model", d) and Echo())
    assert cli.main(["evaluate", "--corpus", "toy", "--model", "m/dir", "--bootstrap", "0"]) == 0
    assert calls["load"] == ("toy", "test") and calls["model"] == "m/dir"
    assert calls["spans_seen"] == 0  # the tagger never sees gold spans
    assert "100.0" in capsys.readouterr().out


def test_cli_with_real_readers(capsys):
    io = pytest.importorskip("imner.io")
    if not hasattr(io, "read_documents"):
        pytest.skip("imner.io.read_documents not available yet")
    rc = cli.main(["evaluate", "--gold", str(FIXTURES / "gold.jsonl"), "--pred", str(FIXTURES / "pred.jsonl"),
                   "--format", "jsonl", "--bootstrap", "0"])
    assert rc == 0
    out = capsys.readouterr().out
    micro = next(line for line in out.splitlines() if line.startswith("micro"))
    assert micro.split()[1:5] == ["60.0", "50.0", "54.5", "6"]


# --- missed and spurious spans (error analysis) ---------------------------------------------------------

def test_report_keeps_missed_and_spurious_spans():
    gold = [Document("a", "fever and lupus", (S(0, 5, "SIGN_SYMPTOM"), S(10, 15, "IMMUNE_DISEASE")))]
    pred = [Document("a", "fever and lupus", (S(0, 5, "INFECTIOUS_DISEASE"), S(10, 15, "IMMUNE_DISEASE")))]
    r = evaluate(gold, pred, bootstrap=0)
    assert r.errors("strict") == [
        {"kind": "missed", "doc_id": "a", "start": 0, "end": 5, "label": "SIGN_SYMPTOM", "text": "fever"},
        {"kind": "spurious", "doc_id": "a", "start": 0, "end": 5, "label": "INFECTIOUS_DISEASE", "text": "fever"}]
    assert r.errors("exact") == []
    assert [e.span for e in r.missed["type"]] == [S(0, 5, "SIGN_SYMPTOM")]
    # a gold document without predictions: all its spans are missed
    r = evaluate(gold, [], bootstrap=0)
    assert [e.text for e in r.missed["partial"]] == ["fever", "lupus"] and r.spurious["partial"] == ()


# --- cross-check against nervaluate ------------------------------------------------------------------------

def _nervaluate_scores(gold, pred, labels):
    """nervaluate's overall P/R/F1 per criterion and strict/ent_type per label (its ends are inclusive)."""
    from nervaluate import Evaluator

    def dicts(docs):
        return [[{"label": s.label, "start": s.start, "end": s.end - 1} for s in d.spans] for d in docs]

    res = Evaluator(dicts(gold), dicts(pred), tags=list(labels), loader="dict").evaluate()
    return res["overall"], res["entities"]


@given(st.lists(st.tuples(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4), st.sampled_from("XY")),
                                   max_size=4),
                          st.lists(st.tuples(st.integers(-2, 2), st.integers(-2, 2), st.sampled_from("XYZ"),
                                             st.booleans()), max_size=4)), min_size=1, max_size=4))
@settings(max_examples=150, deadline=None)
def test_matches_nervaluate(docs_spec):
    """Same numbers as nervaluate on every criterion (partial with its half credit), and per label for strict
    and type, over documents where each gold span overlaps at most one prediction and the other way round --
    there nervaluate's matching (first overlap, prediction by prediction) and this one's cannot differ."""
    pytest.importorskip("nervaluate")
    gold_docs, pred_docs = [], []
    for n, (gspec, pspec) in enumerate(docs_spec):
        gold, pred = [], []
        for k, (off, length, lab) in enumerate(gspec):  # gold spans in slots of 10 characters, never touching
            start = 10 * k + off
            gold.append(S(start, start + length, lab))
        for k, (ds, de, lab, present) in enumerate(pspec):  # at most one prediction per slot, near its gold
            if not present or k >= len(gold):
                start = 10 * k + 4
                pred.append(S(start, start + 2, lab))
                continue
            g = gold[k]
            start, end = max(10 * k, g.start + ds), min(10 * k + 9, g.end + de)
            if end > start:
                pred.append(S(start, end, lab))
        gold_docs.append(Document(f"d{n}", " " * 60, tuple(gold)))
        pred_docs.append(Document(f"d{n}", " " * 60, tuple(pred)))
    labels = ("X", "Y", "Z")
    r = evaluate(gold_docs, pred_docs, bootstrap=0)
    overall, per_label = _nervaluate_scores(gold_docs, pred_docs, labels)
    for ours, theirs in (("strict", "strict"), ("exact", "exact"), ("partial", "partial"), ("type", "ent_type")):
        m, o = r.micro[ours], overall[theirs]
        assert (m.precision, m.recall, m.f1) == pytest.approx((o.precision, o.recall, o.f1)), ours
    for lab, res in per_label.items():
        for ours, theirs in (("strict", "strict"), ("type", "ent_type")):
            m, o = r.per_label[ours][lab], res[theirs]
            assert (m.precision, m.recall, m.f1) == pytest.approx((o.precision, o.recall, o.f1)), (ours, lab)
