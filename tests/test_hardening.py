"""Issue 10: nothing lost, nothing silently wrong. One regression test (or more) per numbered item of the issue;
docs/reliability.md lists them. Most runs use the dictionary tagger (fast, known output); the shipped model where
the item is about it."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from imner.cli import main

def partial_path(target: Path) -> Path:
    """Where an unfinished run's output lives (imner.io.safe.partial_path; spelled out so the tests also run,
    and fail, against the code before issue 10)."""
    return target.with_name(target.name + ".partial")


EXAMPLE = Path(__file__).parents[1] / "examples" / "case_report.txt"
DEFAULT_MODEL = Path(__file__).parents[1] / "src" / "imner" / "resources" / "models" / "default"


@pytest.fixture(scope="module")
def dict_model(tmp_path_factory):
    from imner.taggers.dictionary import DictionaryTagger

    return str(DictionaryTagger().save(tmp_path_factory.mktemp("dictionary")))


def run(argv, capsys, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    rc = main(["extract", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def jsonl(path_or_text) -> list[dict]:
    text = path_or_text.read_text(encoding="utf-8") if isinstance(path_or_text, Path) else path_or_text
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def docs_file(path: Path, n: int, start: int = 0) -> Path:
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"Fever and tuberculosis {i}."}) + "\n"
                            for i in range(start, start + n)), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------- data loss

def test_1_output_equal_to_input_is_refused_before_anything_is_opened(tmp_path, capsys, dict_model):
    src = docs_file(tmp_path / "d.jsonl", 2)
    before = src.read_bytes()
    for out in (src, tmp_path / "." / "d.jsonl"):
        rc, _, err = run([str(src), "-o", str(out), "-m", dict_model], capsys)
        assert rc == 5 and "is the input" in err and "Traceback" not in err
        assert src.read_bytes() == before and not partial_path(src).exists()
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    rc, _, err = run([str(src), "-o", str(link), "-m", dict_model], capsys)
    assert rc == 5 and src.read_bytes() == before


@pytest.mark.parametrize("make_input", [
    lambda d: d / "missing.txt",
    lambda d: (d / "latin1.txt").write_bytes(b"caf\xe9") and d / "latin1.txt",
])
def test_2_a_run_that_fails_before_its_first_document_keeps_the_old_output(tmp_path, capsys, dict_model,
                                                                          make_input):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old", "entities": []}\n', encoding="utf-8")
    rc, _, err = run([str(make_input(tmp_path)), "-o", str(out), "-m", dict_model], capsys)
    assert rc == 1 and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == '{"id": "old", "entities": []}\n' and not partial_path(out).exists()


def test_2_a_run_that_fails_half_way_keeps_the_old_output_and_what_it_did(tmp_path, capsys, dict_model):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Fever."}\n{"id": "b"}\n', encoding="utf-8")
    rc, _, err = run([str(src), "-o", str(out), "-m", dict_model], capsys)
    assert rc == 1 and "line 2" in err and "--resume" in err and str(partial_path(out)) in err
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [r["id"] for r in jsonl(partial_path(out))] == ["a"]


def test_3_duplicate_ids_are_an_error_naming_both_lines(tmp_path, capsys, dict_model):
    src = tmp_path / "dup.jsonl"
    src.write_text('{"id": 1, "text": "Fever."}\n{"id": "2", "text": "Cough."}\n{"id": "1", "text": "Sepsis."}\n',
                   encoding="utf-8")
    rc, _, err = run([str(src), "-m", dict_model], capsys)
    assert rc == 1 and "line 3" in err and "line 1" in err and "'1'" in err and "--on-duplicate" in err
    rc, out, _ = run([str(src), "-m", dict_model, "--on-duplicate", "rename", "-q"], capsys)
    assert rc == 0 and [r["id"] for r in jsonl(out)] == ["1", "2", "1~2"]
    rc, out, _ = run([str(src), "-m", dict_model, "--on-duplicate", "keep", "-q"], capsys)
    assert rc == 0 and [r["id"] for r in jsonl(out)] == ["1", "2", "1"]
    rc, _, err = run([str(src), "-m", dict_model, "--on-duplicate", "keep", "-f", "brat", "-o",
                      str(tmp_path / "ann")], capsys)
    assert rc == 1 and "overwrite" in err and not (tmp_path / "ann").exists()


def test_3_duplicate_stems_in_a_folder(tmp_path, capsys, dict_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Fever.", encoding="utf-8")
    (tmp_path / "in" / "a.TXT").write_text("Cough.", encoding="utf-8")
    rc, _, err = run([str(tmp_path / "in"), "-m", dict_model, "-f", "brat", "-o", str(tmp_path / "ann")], capsys)
    assert rc == 1 and "a.txt" in err and "a.TXT" in err


def test_4_resume_after_kill_keeps_whole_lines_drops_the_half_line(tmp_path, capsys, dict_model):
    src = docs_file(tmp_path / "in.jsonl", 5)
    out = tmp_path / "out.jsonl"
    rc, _, _ = run([str(src), "-o", str(out), "-m", dict_model, "-q"], capsys)
    full = out.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    out.unlink()
    # what kill -9 leaves: two whole lines and half of the third, in the partial file
    partial_path(out).write_text(lines[0] + lines[1] + lines[2][:25], encoding="utf-8")
    rc, _, err = run([str(src), "-o", str(out), "-m", dict_model, "--resume"], capsys)
    assert rc == 0 and "3 documents" in err and "after 2 documents already there" in err
    assert out.read_text(encoding="utf-8") == full and not partial_path(out).exists()
    # resuming a finished output adds the documents the input has gained, and nothing twice
    docs_file(src, 6)
    rc, _, _ = run([str(src), "-o", str(out), "-m", dict_model, "--resume", "-q"], capsys)
    assert rc == 0 and [r["id"] for r in jsonl(out)] == [f"d{i}" for i in range(6)]
    # a re-run without --resume starts over (the finished file is replaced only when it is done)
    rc, _, _ = run([str(src), "-o", str(out), "-m", dict_model, "-q"], capsys)
    assert rc == 0 and len(jsonl(out)) == 6


def test_4_resume_refuses_an_input_that_changed(tmp_path, capsys, dict_model):
    src = docs_file(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    partial_path(out).write_text('{"id": "zz", "entities": []}\n', encoding="utf-8")
    rc, _, err = run([str(src), "-o", str(out), "-m", dict_model, "--resume"], capsys)
    assert rc == 1 and "input changed" in err and not out.exists()


def test_4_15_ctrl_c_exits_130_says_what_was_written_and_resume_finishes(tmp_path, capsys, dict_model, monkeypatch):
    from imner.pipeline import Pipeline

    src = docs_file(tmp_path / "in.jsonl", 5)
    out = tmp_path / "out.jsonl"
    real = Pipeline.stream

    def interrupted(self, docs, batch_size=16):
        for k, doc in enumerate(real(self, docs, batch_size)):
            if k == 2:
                raise KeyboardInterrupt
            yield doc

    monkeypatch.setattr(Pipeline, "stream", interrupted)
    rc, _, err = run([str(src), "-o", str(out), "-m", dict_model, "--batch-size", "1"], capsys)
    assert rc == 130 and "interrupted: 2 documents written" in err and "--resume" in err
    assert "Traceback" not in err and not out.exists() and len(jsonl(partial_path(out))) == 2
    monkeypatch.setattr(Pipeline, "stream", real)
    rc, _, err = run([str(src), "-o", str(out), "-m", dict_model, "--resume"], capsys)
    assert rc == 0 and [r["id"] for r in jsonl(out)] == [f"d{i}" for i in range(5)]


def test_4_resume_a_brat_folder(tmp_path, capsys, dict_model, monkeypatch):
    from imner.pipeline import Pipeline

    src = docs_file(tmp_path / "in.jsonl", 4)
    out = tmp_path / "ann"
    real = Pipeline.stream

    def failing(self, docs, batch_size=16):
        for k, doc in enumerate(real(self, docs, batch_size)):
            if k == 2:
                raise KeyboardInterrupt
            yield doc

    monkeypatch.setattr(Pipeline, "stream", failing)
    assert run([str(src), "-o", str(out), "-m", dict_model, "-f", "brat"], capsys)[0] == 130
    monkeypatch.setattr(Pipeline, "stream", real)
    rc, _, err = run([str(src), "-o", str(out), "-m", dict_model, "-f", "brat", "--resume"], capsys)
    assert rc == 0 and "2 documents" in err
    assert sorted(p.name for p in out.glob("*.ann")) == [f"d{i}.ann" for i in range(4)]


@pytest.mark.parametrize("fmt", ["conll", "html"])
def test_resume_is_refused_where_it_cannot_be_exact(tmp_path, capsys, dict_model, fmt):
    rc, _, err = run([str(EXAMPLE), "-o", str(tmp_path / "x"), "-m", dict_model, "-f", fmt, "--resume"], capsys)
    assert rc == 5 and "--resume works for" in err


# -------------------------------------------------------------------------------------- silently wrong output

def test_5_conll_output_keeps_document_boundaries(tmp_path, capsys, dict_model):
    from imner.io.conll import read_conll

    src = docs_file(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.conll"
    assert run([str(src), "-o", str(out), "-m", dict_model, "-f", "conll", "-q"], capsys)[0] == 0
    docs = list(read_conll(out))
    assert [d.id for d in docs] == ["out:0", "out:1", "out:2"]
    assert [d.text for d in docs] == [f"Fever and tuberculosis {i} ." for i in range(3)]


def test_6_brat_output_of_a_bom_file_indexes_the_txt_exactly(tmp_path, capsys, dict_model):
    src = tmp_path / "b.txt"
    src.write_bytes("\ufeffShe had tuberculosis.".encode("utf-8"))
    assert run([str(src), "-o", str(tmp_path / "ann"), "-m", dict_model, "-f", "brat", "-q"], capsys)[0] == 0
    raw = (tmp_path / "ann" / "b.txt").read_bytes().decode("utf-8")   # as brat and other tools read it
    ann = (tmp_path / "ann" / "b.ann").read_text(encoding="utf-8")
    for line in ann.splitlines():
        if line.startswith("T"):
            _, typ_offsets, mention = line.split("\t")
            a, b = map(int, typ_offsets.split()[1:3])
            assert raw[a:b] == mention


def test_7_brat_patient_block_is_not_entities_and_a_run_scores_1_against_itself(tmp_path, capsys):
    gold, ann = tmp_path / "gold.jsonl", tmp_path / "ann"
    assert run([str(EXAMPLE), "--include-text", "-o", str(gold), "-q"], capsys)[0] == 0
    assert run([str(EXAMPLE), "-f", "brat", "-o", str(ann), "-q"], capsys)[0] == 0
    assert "\tAge " not in (ann / "case_report.ann").read_text(encoding="utf-8")
    patient = json.loads((ann / "case_report.patient.json").read_text(encoding="utf-8"))
    assert patient["sex"] == "female" and patient["age"] == 34
    assert main(["evaluate", "--gold", str(gold), "--pred", str(ann), "--json", "-", "--bootstrap", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["strict"]["micro"]["f1"] == 1.0 and report["strict"]["micro"]["recall"] == 1.0


@pytest.mark.parametrize("phrase", ["Sjögren syndrome", "Behçet disease"])
def test_8_nfd_text_gets_the_nfc_entities_with_offsets_into_the_nfd_text(tmp_path, capsys, phrase):
    text = f"A 40-year-old woman with {phrase} had no fever."
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "nfc", "text": text}) + "\n" + json.dumps({"id": "nfd", "text": nfd}) + "\n",
                   encoding="utf-8")
    rc, out, _ = run([str(src), "-q"], capsys)
    nfc_rec, nfd_rec = jsonl(out)
    assert rc == 0
    assert [(e["label"], e["doid"]) for e in nfd_rec["entities"]] == \
        [(e["label"], e["doid"]) for e in nfc_rec["entities"]]
    hit = next(e for e in nfd_rec["entities"] if unicodedata.normalize("NFC", e["text"]) == phrase)
    assert nfd[hit["start"]:hit["end"]] == hit["text"] == unicodedata.normalize("NFD", phrase)
    assert hit["label"] == "IMMUNE_DISEASE"
    for e in nfd_rec["entities"]:
        assert nfd[e["start"]:e["end"]] == e["text"]
    ev = nfd_rec["patient"]["sex_evidence"]
    assert nfd[ev["start"]:ev["end"]] == ev["text"] == "woman"


def test_8_offset_map_never_splits_a_character():
    from imner.nfc import to_nfc

    text = unicodedata.normalize("NFD", "Ünal's Behçet, 한국어 and é\u0301x")
    nfc, om = to_nfc(text)
    assert nfc == unicodedata.normalize("NFC", text)
    for i in range(len(nfc) + 1):
        for j in range(i + 1, len(nfc) + 1):
            a, b = om.start(i), om.end(j)
            assert 0 <= a <= b <= len(text)
            assert unicodedata.normalize("NFC", text[a:b]).find(nfc[i:j]) >= 0


def test_9_stdin_that_starts_with_a_brace_must_say_what_it_is(capsys, monkeypatch, dict_model):
    note = b"{redacted} 34-year-old woman with fever."
    rc, _, err = run(["-", "-m", dict_model], capsys, stdin=note, monkeypatch=monkeypatch)
    assert rc == 1 and "--input-format" in err
    rc, out, _ = run(["-", "-m", dict_model, "--input-format", "text", "-q"], capsys, stdin=note,
                     monkeypatch=monkeypatch)
    assert rc == 0 and jsonl(out)[0]["id"] == "stdin"
    rc, out, _ = run(["-", "-m", dict_model, "--input-format", "jsonl", "-q"], capsys,
                     stdin=b'{"id": "j", "text": "Fever."}\n', monkeypatch=monkeypatch)
    assert rc == 0 and jsonl(out)[0]["id"] == "j"


def test_10_every_entity_carries_every_record_key(capsys):
    from imner.records import entity_keys

    rc, out, _ = run([str(EXAMPLE), "-q"], capsys)
    (rec,) = jsonl(out)
    labels = {e["label"] for e in rec["entities"]}
    assert {"ANATOMY", "LAB_VALUE", "TEMPORAL", "DIAGNOSTIC_PROCEDURE"} <= labels
    keys = {"start", "end", "label", "text", "score", *entity_keys()}
    assert {"negated", "uncertain", "historical", "family", "code_status"} <= keys
    for e in rec["entities"]:
        assert keys <= set(e), (e["label"], keys - set(e))
    by_label = {e["label"]: e for e in rec["entities"]}
    assert by_label["ANATOMY"]["negated"] is None and by_label["DIAGNOSTIC_PROCEDURE"]["code_status"] is None
    assert by_label["IMMUNE_DISEASE"]["negated"] is False and by_label["IMMUNE_DISEASE"]["code_status"] == "mapped"


def test_10_record_keys_follow_the_assertion_and_code_steps():
    import imner.context as context
    from imner.normalize.normalizer import OUTPUT_KEYS
    from imner.records import assertion_keys, code_keys

    assert set(context.FLAGS) <= set(assertion_keys()) == set(getattr(context, "ASSERTION_KEYS", context.FLAGS))
    assert set(code_keys()) == set(OUTPUT_KEYS)


def test_11_folder_entries_not_read_are_summed_up_in_one_line(tmp_path, capsys, dict_model):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("Fever.", encoding="utf-8")
    (d / "sub").mkdir()
    (d / "notes.md").write_text("x", encoding="utf-8")
    os.mkfifo(d / "pipe.txt")
    (d / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    rc, out, err = run([str(d), "-m", dict_model], capsys)
    warning = [line for line in err.splitlines() if "warning" in line]
    assert rc == 0 and len(jsonl(out)) == 1 and len(warning) == 1
    assert warning[0].startswith("imner extract: warning: ")
    assert ("read 1 .txt file, skipped 4 entries: 1 subfolder, 1 file of another type, 1 special file "
            "(FIFO, socket, device), 1 broken link") in warning[0]


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_12_batch_size_must_be_a_positive_integer(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["extract", str(EXAMPLE), "--batch-size", value])
    assert exc.value.code == 2 and "integer >= 1" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- messages, faults

def _model_copy(tmp_path, manifest: bool = True) -> Path:
    d = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL, d)
    if not manifest:
        cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
        cfg.pop("sha256")
        (d / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return d


def test_13_the_shipped_model_carries_checksums_of_every_file():
    from imner.integrity import checksums

    cfg = json.loads((DEFAULT_MODEL / "config.json").read_text(encoding="utf-8"))
    assert cfg["sha256"] == checksums(DEFAULT_MODEL)


@pytest.mark.parametrize("manifest", [True, False])
@pytest.mark.parametrize("damage, name", [
    (lambda d: (d / "model.int8.onnx").write_bytes((d / "model.int8.onnx").read_bytes()[:1000]), "model.int8.onnx"),
    (lambda d: (d / "model.int8.onnx").write_bytes(b""), "model.int8.onnx"),
    (lambda d: (d / "vocab.json").write_text('{"words": [', encoding="utf-8"), "vocab.json"),
    (lambda d: (d / "crf.npz").write_bytes(b"PK\x03\x04broken"), "crf.npz"),
])
def test_13_a_damaged_model_file_is_named(tmp_path, capsys, damage, name, manifest):
    d = _model_copy(tmp_path, manifest)
    damage(d)
    rc, _, err = run([str(EXAMPLE), "-m", str(d)], capsys)
    assert rc == 3 and str(d / name) in err and "damaged" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_13_a_missing_onnx_lists_the_files_that_are_there(tmp_path, capsys):
    d = _model_copy(tmp_path, manifest=False)
    (d / "model.int8.onnx").rename(d / "other.onnx")
    rc, _, err = run([str(EXAMPLE), "-m", str(d)], capsys)
    assert rc == 3 and "other.onnx" in err and "vocab.json" in err and "none" not in err


def test_14_a_full_disk_is_a_message_and_no_half_line(tmp_path, capsys, dict_model, monkeypatch):
    rc, _, err = run([str(EXAMPLE), "-m", dict_model, "-o", "/dev/full"], capsys)
    assert rc == 5 and "/dev/full" in err and "No space left" in err and "Traceback" not in err
    # a file on a disk that fills up after the first record: whole records only, the old output kept
    import imner.io.safe as safe

    src = docs_file(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    real_write = safe.SafeOutput.write
    calls = {"n": 0}

    def write(self, text):
        calls["n"] += 1
        if calls["n"] == 2 and self._fh is not None:
            self._fh.write(text[:10])          # the disk took part of the record, then failed
            self._fh.flush()
            self._fh.write = lambda s: (_ for _ in ()).throw(OSError(28, "No space left on device"))
        return real_write(self, text)

    monkeypatch.setattr(safe.SafeOutput, "write", write)
    rc, _, err = run([str(src), "-m", dict_model, "-o", str(out), "--batch-size", "1"], capsys)
    assert rc == 5 and "No space left on device" in err and "1 document" in err
    assert out.read_text(encoding="utf-8") == "previous\n"
    kept = partial_path(out).read_text(encoding="utf-8")
    assert kept.endswith("\n") and [r["id"] for r in jsonl(kept)] == ["d0"]


def test_14_an_unwritable_output_is_a_message(tmp_path, capsys, dict_model):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    rc, _, err = run([str(EXAMPLE), "-m", dict_model, "-o", str(tmp_path / "file" / "out.jsonl")], capsys)
    assert rc == 5 and str(tmp_path / "file" / "out.jsonl") in err and "Traceback" not in err


def test_15_ctrl_c_anywhere_is_exit_130_without_traceback(capsys, monkeypatch):
    import imner.commands.corpus as corpus

    def boom(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(corpus, "_list", boom)
    assert main(["corpus", "list"]) == 130
    assert capsys.readouterr().err.strip() == "imner corpus: interrupted"


@pytest.mark.parametrize("line, what", [
    ('{"id": "a", "text": "fever \\ud800 here"}', '"text" holds a lone surrogate U+D800 at character offset 6'),
    ('{"id": "\\udc00", "text": "fever"}', '"id" holds a lone surrogate U+DC00'),
])
def test_16_lone_surrogates_are_a_clear_error(tmp_path, capsys, dict_model, line, what):
    src = tmp_path / "s.jsonl"
    src.write_text(line + "\n", encoding="utf-8")
    rc, _, err = run([str(src), "-m", dict_model], capsys)
    assert rc == 1 and what in err and "line 1" in err and "Traceback" not in err


def test_16_a_file_name_that_is_not_utf8(tmp_path, capsys, dict_model):
    d = os.fsencode(tmp_path / "in")
    os.mkdir(d)
    with open(d + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"Fever.")
    rc, _, err = run([os.fsdecode(d), "-m", dict_model], capsys)
    assert rc == 1 and "file name is not valid UTF-8" in err


def test_17_small_message_defects(tmp_path, capsys, dict_model):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "unterminated\n', encoding="utf-8")
    rc, _, err = run([str(bad), "-m", dict_model], capsys)
    assert rc == 1 and "at at" not in err and "at column" in err
    latin = tmp_path / "sub dir" / "latin1.txt"
    latin.parent.mkdir()
    latin.write_bytes(b"caf\xe9")
    rc, _, err = run([str(latin), "-m", dict_model], capsys)
    assert f"iconv -f LATIN1 -t UTF-8 '{latin}'" in err        # the path, not the bare name
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    rc, _, err = run([str(empty), "-m", dict_model], capsys)
    assert rc == 0
    assert err.splitlines()[0].startswith("imner extract: warning: ") and "EmptyInputWarning" not in err
    assert "warnings.warn" not in err and "1 document, 0 entities" in err
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help_text = capsys.readouterr().out
    assert "ncbi-disease" in help_text and "ncbi_disease" not in help_text


# ------------------------------------------------------------------------------- one error path, --debug

def test_debug_shows_the_traceback(tmp_path):
    from imner.errors import InputError

    with pytest.raises(InputError):
        main(["extract", str(tmp_path / "missing.txt"), "--debug"])


@pytest.mark.parametrize("argv, code", [
    (["evaluate", "--gold", "MISSING", "--pred", "MISSING"], 1),
    (["corpus", "stats", "MISSING"], 1),
    (["extract", "MISSING"], 1),
    (["extract", str(EXAMPLE), "-m", "MISSING_MODEL"], 3),
])
def test_every_command_reports_one_line_and_an_exit_code(capsys, argv, code):
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"imner {argv[0]}: error: ") and "MISSING" in err


def test_document_text_never_reaches_error_messages_beyond_an_excerpt(tmp_path, capsys, dict_model):
    secret = "PATIENT-NAME-" + "x" * 5000
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"id": "a", "text": secret, "entities": [
        {"start": 0, "end": 4000, "label": "X", "text": "y" * 4000}]}) + "\n", encoding="utf-8")
    rc, _, err = run([str(src), "-m", dict_model], capsys)
    assert rc == 1 and len(err) < 700 and "x" * 100 not in err
    src.write_text('{"id": "a", "text": "' + secret + '", }\n', encoding="utf-8")
    rc, _, err = run([str(src), "-m", dict_model], capsys)
    assert rc == 1 and "PATIENT-NAME" not in err


def test_progress_bar_on_a_terminal_quiet_when_piped(monkeypatch):
    from imner.commands.extract import Progress
    from imner.types import Document

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = Progress(2, quiet=False)
    bar.update(Document("a", "one two three"))
    bar.bar.refresh()
    bar.close()
    assert "1/2" in tty.getvalue() and "words/s" in tty.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    bar = Progress(2, quiet=False)
    bar.update(Document("a", "one two"))
    bar.close()
    assert piped.getvalue() == ""


@pytest.mark.parametrize("entity, what", [
    ('{"start": 0.5, "end": 5, "label": "X"}', '"start" must be an integer'),
    ('{"start": "0", "end": 5, "label": "X"}', '"start" must be an integer'),
    ('{"start": 0, "end": 5, "label": ["X"]}', '"label" must be a non-empty string'),
    ('{"start": 0, "end": 5, "label": "X", "score": "high"}', '"score" must be a number'),
])
def test_jsonl_entities_with_wrong_types_are_refused_not_coerced(tmp_path, entity, what):
    """Found probing the readers for issue 10: 0.5 became 0, ["X"] the label "['X']"."""
    from imner.errors import InputError
    from imner.io.jsonl import read_jsonl

    p = tmp_path / "e.jsonl"
    p.write_text('{"id": "a", "text": "Fever", "entities": [' + entity + "]}\n", encoding="utf-8")
    with pytest.raises(InputError, match=what):
        list(read_jsonl(p))


def test_a_file_format_into_an_existing_folder_is_refused(tmp_path, capsys, dict_model):
    (tmp_path / "out").mkdir()
    rc, _, err = run([str(EXAMPLE), "-m", dict_model, "-o", str(tmp_path / "out")], capsys)
    assert rc == 5 and "is a folder" in err and not partial_path(tmp_path / "out").exists()


def test_reports_are_written_whole(tmp_path, capsys, dict_model):
    report = tmp_path / "t.json"
    rc, _, _ = run([str(EXAMPLE), "-m", dict_model, "-q", "--timings", str(report)], capsys)
    assert rc == 0 and json.loads(report.read_text(encoding="utf-8"))["documents"] == 1
    assert not partial_path(report).exists()


def test_4_15_real_sigint_and_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path, capsys, dict_model):
    """The real thing, in subprocesses: Ctrl-C (SIGINT) exits 130 keeping whole lines; kill -9 may leave half a
    line; --resume after both gives exactly the output of a run that was never interrupted."""
    import signal
    import subprocess
    import time

    src = docs_file(tmp_path / "in.jsonl", 1500)
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "imner.cli", "extract", str(src), "-o", str(out), "-m", dict_model,
           "--no-normalize", "--batch-size", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}

    def start_and_stop(sig, extra=()):
        # a terminal's Ctrl-C: the child starts with SIGINT's default disposition, whatever the test runner's is
        proc = subprocess.Popen([*cmd, *extra], env=env, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if partial_path(out).exists() and partial_path(out).stat().st_size > 2000:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "finished before it could be stopped"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        return proc.returncode, err

    rc, err = start_and_stop(signal.SIGINT)
    assert rc == 130 and "interrupted:" in err and "Traceback" not in err
    assert partial_path(out).read_text(encoding="utf-8").endswith("\n")
    rc, _ = start_and_stop(signal.SIGKILL, ["--resume"])
    assert rc == -signal.SIGKILL and not out.exists()
    rc, _, _ = run([str(src), "-o", str(out), "-m", dict_model, "--no-normalize", "--resume", "-q"], capsys)
    assert rc == 0
    ref = tmp_path / "ref.jsonl"
    assert run([str(src), "-o", str(ref), "-m", dict_model, "--no-normalize", "-q"], capsys)[0] == 0
    assert out.read_bytes() == ref.read_bytes()


def test_4_16_first_ctrl_c_stops_between_documents_second_at_once():
    """The first SIGINT only asks to stop (never raised inside whatever code runs when it lands); the check between
    documents raises it; a second SIGINT raises at once; the previous handler is restored afterwards."""
    import signal

    from imner.commands.extract import _interrupt_between_documents

    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a command started from a terminal
    before = signal.getsignal(signal.SIGINT)
    with _interrupt_between_documents() as stop_requested:
        stop_requested()  # nothing pending
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler has run: no exception here
        with pytest.raises(KeyboardInterrupt):
            stop_requested()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
    assert signal.getsignal(signal.SIGINT) is before
