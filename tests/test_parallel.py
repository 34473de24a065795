"""imner extract --workers: same output, in input order, as one process."""

import json

from imner.cli import main

DOCS = [("c", "A 34-year-old woman with systemic lupus erythematosus presented with fever and cough."),
        ("a", "Blood cultures grew Staphylococcus aureus; vancomycin was started."),
        ("b", "He denied rash. There was no history of tuberculosis or HIV infection.")]


def test_workers_match_one_process(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in DOCS), encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main(["extract", str(src), "-o", str(one), "-q"]) == 0
    assert main(["extract", str(src), "-o", str(two), "-q", "--workers", "2", "--batch-size", "1"]) == 0
    lines = two.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["c", "a", "b"]
    assert two.read_text(encoding="utf-8") == one.read_text(encoding="utf-8")
    assert sum(len(json.loads(x)["entities"]) for x in lines) >= 6


def test_batches_do_not_change_results(tmp_path):
    """A document's entities do not depend on the other documents of its batch (what makes --workers and Spark
    give the same output as one process)."""
    from imner.pipeline import load_pipeline
    from imner.types import Document

    pipe = load_pipeline(assertion=False, normalize=False, patient=False)
    docs = [Document(i, t) for i, t in DOCS]
    together = pipe(docs)
    alone = [pipe([d])[0] for d in docs]
    for x, y in zip(together, alone):
        assert [(s.start, s.end, s.label, s.score) for s in x.spans] == [(s.start, s.end, s.label, s.score)
                                                                          for s in y.spans]


def test_a_long_document_is_tagged_window_by_window_with_exact_offsets(monkeypatch):
    from pathlib import Path

    from imner import pipeline
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    report = (Path(__file__).resolve().parent.parent / "examples" / "case_report.txt").read_text(encoding="utf-8")
    line = " ".join(report.split())
    text = " ".join([line] * 4) + " " + "fever, " * 300 + "no period at all"   # one line, ~4 reports long
    windows = pipeline.text_windows(text, 2000)
    assert windows[0][0] == 0 and windows[-1][1] == len(text)
    assert all(b == c for (_, b), (c, _) in zip(windows, windows[1:]))         # consecutive, nothing dropped
    assert all(b - a <= 2000 for a, b in windows) and len(windows) > 4
    assert all(text[a - 1].isspace() or text[a].isspace() for a, _ in windows[1:])  # never inside a token
    tagger = pipeline.default_tagger()
    if not isinstance(tagger, BiLSTMOnnxTagger):
        return
    whole = tagger.annotate([pipeline.Document("d", text)])[0].spans
    monkeypatch.setattr(pipeline, "WINDOW_CHARS", 2000)
    (doc,) = pipeline.tag_windowed(tagger, [pipeline.Document("d", text)])
    assert [(s.start, s.end, s.label) for s in doc.spans] == [(s.start, s.end, s.label) for s in whole]
    assert doc.spans and all(text[s.start:s.end].strip() == text[s.start:s.end] for s in doc.spans)
