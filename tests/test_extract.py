"""`imner extract`: the stable contract (inputs, output lines in input order, formats, errors)."""

import io
import json
import sys
from pathlib import Path

import pytest

from imner.cli import main

EXAMPLE = Path(__file__).parents[1] / "examples" / "case_report.txt"


def run(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    rc = main(["extract", "-q", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def lines(out):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_example_report_gives_entities_codes_assertion_and_patient(capsys):
    rc, out, _ = run([str(EXAMPLE)], capsys)
    assert rc == 0
    (rec,) = lines(out)
    text = EXAMPLE.read_text(encoding="utf-8")
    assert rec["id"] == "case_report"
    for ent in rec["entities"]:
        assert text[ent["start"]:ent["end"]] == ent["text"]
    by_text = {e["text"]: e for e in rec["entities"]}
    assert by_text["systemic lupus erythematosus"]["label"] == "IMMUNE_DISEASE"
    assert by_text["systemic lupus erythematosus"]["doid"] == "DOID:9074"
    assert by_text["rash"]["negated"] is True
    assert rec["patient"]["sex"] == "female" and rec["patient"]["age"] == 34


def test_folder_jsonl_and_stdin_inputs_keep_order(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "b.txt").write_text("No fever.", encoding="utf-8")
    (folder / "a.txt").write_text("Sepsis.", encoding="utf-8")
    rc, out, _ = run([str(folder)], capsys)
    assert rc == 0 and [r["id"] for r in lines(out)] == ["a", "b"]

    jl = tmp_path / "docs.jsonl"
    jl.write_text('{"id": "z", "text": "Tuberculosis."}\n{"id": "y", "text": ""}\n', encoding="utf-8")
    out_path = tmp_path / "out.jsonl"
    rc, _, _ = run([str(jl), "--output", str(out_path)], capsys)
    recs = lines(out_path.read_text(encoding="utf-8"))
    assert rc == 0 and [r["id"] for r in recs] == ["z", "y"] and recs[1]["entities"] == []

    rc, out, _ = run(["-", "--no-patient"], capsys, stdin="Fever and cough.", monkeypatch=monkeypatch)
    (rec,) = lines(out)
    assert rc == 0 and rec["id"] == "stdin" and "patient" not in rec


def test_switching_steps_off(capsys):
    rc, out, _ = run([str(EXAMPLE), "--no-assertion", "--no-normalize", "--no-patient"], capsys)
    (rec,) = lines(out)
    assert rc == 0 and "patient" not in rec
    # the record keeps its keys (imner.records); a step switched off leaves them null
    assert all(e["negated"] is None and e["doid"] is None and e["code_status"] is None for e in rec["entities"])


def test_timings_report_each_step(tmp_path, capsys):
    report = tmp_path / "timings.json"
    rc, _, _ = run([str(EXAMPLE), "--no-patient", "--timings", str(report)], capsys)
    t = json.loads(report.read_text(encoding="utf-8"))
    assert rc == 0 and t["documents"] == 1
    assert set(t["parts"]) == {"tagger", "assertion", "normalize"}
    assert all(v >= 0 for v in t["parts"].values()) and t["load_seconds"] > 0
    assert t["run_seconds"] >= sum(t["parts"].values())
    rc, _, err = run([str(EXAMPLE), "--no-assertion", "--no-normalize", "--no-patient", "--timings", "-"], capsys)
    assert rc == 0 and set(json.loads(err)["parts"]) == {"tagger"}


def test_unwritable_output_or_timings_file_names_the_file(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "dir"
    rc, _, err = run([str(EXAMPLE), "--output", str(missing / "out.jsonl")], capsys)
    assert rc == 5 and str(missing / "out.jsonl") in err and "Traceback" not in err
    out = tmp_path / "out.jsonl"
    rc, _, err = run([str(EXAMPLE), "--output", str(out), "--timings", str(missing / "t.json")], capsys)
    assert rc == 5 and str(missing / "t.json") in err
    assert len(lines(out.read_text(encoding="utf-8"))) == 1  # the extraction itself is kept


def test_brat_and_conll_outputs(tmp_path, capsys):
    rc, _, _ = run([str(EXAMPLE), "--format", "brat", "--output", str(tmp_path / "ann")], capsys)
    assert rc == 0
    from imner.io.brat import read_brat

    (doc,) = read_brat(tmp_path / "ann")
    assert doc.text == EXAMPLE.read_text(encoding="utf-8") and doc.spans
    # the patient block is not entity mentions (issue 10 item 7): it is in <id>.patient.json, read back into meta
    assert not {"Age", "Sex"} & {s.label for s in doc.spans}
    ev = doc.meta["patient"]["age_evidence"]
    assert doc.text[ev["start"]:ev["end"]] == "34-year-old" and doc.meta["patient"]["sex"] == "female"
    rash = next(s for s in doc.spans if doc.text[s.start:s.end] == "rash")
    assert rash.attrs.get("negated") is True  # assertion as a brat attribute
    rc, _, _ = run([str(EXAMPLE), "--format", "conll", "--output", str(tmp_path / "o.conll")], capsys)
    assert rc == 0 and "B-IMMUNE_DISEASE" in (tmp_path / "o.conll").read_text(encoding="utf-8")


def test_crlf_and_bom_offsets_index_decoded_text(tmp_path, capsys):
    p = tmp_path / "w.txt"
    p.write_bytes(b"\xef\xbb\xbfLine one.\r\nShe had tuberculosis.\r\n")
    from imner.taggers.dictionary import DictionaryTagger

    model = DictionaryTagger().save(tmp_path / "dictionary")  # a tagger whose output is known: the lexicon's
    rc, out, _ = run([str(p), "--include-text", "--model", str(model)], capsys)
    (rec,) = lines(out)
    assert rc == 0 and rec["text"].startswith("Line one.\r\n")
    for e in rec["entities"]:
        assert rec["text"][e["start"]:e["end"]] == e["text"]
    assert any(e["text"] == "tuberculosis" for e in rec["entities"])


@pytest.mark.parametrize("content, message", [
    (b"caf\xe9 fever", "UTF-8"),
    (b"\x00\x01\x02binary", "binary"),
])
def test_bad_files_fail_with_the_file_name(tmp_path, capsys, content, message):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    rc, _, err = run([str(p)], capsys)
    assert rc == 1 and "bad.txt" in err and message in err


def test_missing_input_and_jsonl_without_text(tmp_path, capsys):
    rc, _, err = run([str(tmp_path / "nowhere")], capsys)
    assert rc == 1 and "nowhere" in err
    jl = tmp_path / "x.jsonl"
    jl.write_text('{"id": "a", "text": "ok"}\n{"id": "b"}\n', encoding="utf-8")
    rc, out, err = run([str(jl)], capsys)
    assert rc == 1 and "x.jsonl" in err and "line 2" in err
    assert [r["id"] for r in lines(out)] == ["a"]  # the document done before the error is kept


def test_extract_output_evaluates_against_gold(tmp_path, capsys):
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    assert run([str(EXAMPLE), "--include-text", "-o", str(gold)], capsys)[0] == 0
    assert run([str(EXAMPLE), "-o", str(pred)], capsys)[0] == 0
    assert main(["evaluate", "--gold", str(gold), "--pred", str(pred), "--json", "-", "--bootstrap", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["strict"]["micro"]["f1"] == 1.0


def test_html_page_highlights_entities(tmp_path, capsys):
    out = tmp_path / "page.html"
    rc, _, _ = run([str(EXAMPLE), "--format", "html", "--output", str(out)], capsys)
    page = out.read_text(encoding="utf-8")
    assert rc == 0 and page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "systemic lupus erythematosus<span class=\"l\">IMMUNE_DISEASE</span></mark>" in page
    assert 'class="negated"' in page and "DOID:9074" in page and "patient: age 34.0" in page
