"""brat standoff reader/writer."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from imner.errors import FormatError, InputError, OffsetMismatchError
from imner.io._common import OffsetMismatchWarning
from imner.io.brat import format_ann, read_brat, write_brat
from imner.types import Document, Span

FIX = Path(__file__).parent / "fixtures" / "io" / "brat"


def _one(path, **kw) -> Document:
    docs = list(read_brat(path, **kw))
    assert len(docs) == 1
    return docs[0]


def _attrs(doc: Document) -> list[dict]:
    return [dict(s.attrs) for s in doc.spans]


def test_read_fixture_spans_attrs_and_other_lines():
    doc = _one(FIX / "case1.ann")
    assert doc.id == "case1"
    assert "\r\n" in doc.text  # CRLF kept verbatim
    by_id = {s.attrs["id"]: s for s in doc.spans}
    assert len(by_id) == 7
    for s in doc.spans:
        assert s.text_in(doc.text)  # offsets index the text
    assert doc.text[by_id["T7"].start:by_id["T7"].end] == "vancomycin"  # after the CRLF
    disc = by_id["T5"]
    assert disc.fragments == ((55, 60), (69, 73)) and disc.text_in(doc.text) == "Blood grew"
    # attribute on an event goes to the event's trigger; binary attribute is True
    assert by_id["T4"].attrs["POLARITY"] == "NEG"
    assert by_id["T6"].attrs["Negated"] is True
    assert by_id["T6"].attrs["norm"] == ["Taxonomy:1280"]
    assert by_id["T6"].attrs["norm_names"] == ["Staphylococcus aureus"]
    assert by_id["T3"].attrs["norm"] == ["MESH:D008181"] and "norm_names" not in by_id["T3"].attrs
    assert by_id["T3"].attrs["note"] == "SLE-related\nbiopsy proven"  # note on E2 and on T3
    other = doc.meta["brat_other"]
    assert [line.split("\t")[0] for line in other] == ["E1", "E2", "R1", "*", "#2"]
    assert other[2] == "R1\tMODIFY Arg1:E1 Arg2:E2\t"  # verbatim, trailing tab included
    assert "bom" not in doc.meta


def test_round_trip_read_write_read(tmp_path):
    doc = _one(FIX / "case1.ann")
    write_brat([doc], tmp_path)
    assert (tmp_path / "case1.txt").read_bytes() == (FIX / "case1.txt").read_bytes()
    back = _one(tmp_path / "case1.ann")
    assert back.text == doc.text
    assert back.spans == doc.spans
    assert [s.fragments for s in back.spans] == [s.fragments for s in doc.spans]
    assert _attrs(back) == _attrs(doc)
    assert dict(back.meta) == dict(doc.meta)
    ann = (tmp_path / "case1.ann").read_text(encoding="utf-8")
    assert "\tPOLARITY E1 NEG" in ann  # event attribute written against the event again


def test_write_attrs_rule_json_note_score_and_new_ids(tmp_path):
    text = "Fever and rash after amoxicillin."
    spans = [Span(0, 5, "SIGN_SYMPTOM", 0.91, {"assertion": "present", "codes": ["HP:0001945"], "flag": False,
                                                   "comment": "two words"}),
             Span(10, 14, "SIGN_SYMPTOM", None, {"id": "T7", "negated": True}),
             Span(21, 32, "DRUG", 0.5, {"id": "T7"})]  # duplicate id: gets a new one
    doc = Document("d1", text, spans)
    ann = format_ann(doc)
    lines = ann.splitlines()
    assert lines[0].startswith("T1\tSIGN_SYMPTOM 0 5\tFever")
    assert lines[1].startswith("T7\tSIGN_SYMPTOM 10 14\trash")
    assert lines[2].startswith("T2\tDRUG 21 32\tamoxicillin")
    assert "A1\tassertion T1 present" in lines and "A2\tnegated T7" in lines
    assert not any("flag" in line for line in lines)  # False = absent in brat
    write_brat([doc], tmp_path)
    back = _one(tmp_path / "d1.ann")
    assert back.spans == doc.spans
    assert [s.score for s in back.spans] == [0.91, None, 0.5]
    a0 = dict(back.spans[0].attrs)
    assert a0 == {"id": "T1", "assertion": "present", "codes": ["HP:0001945"], "comment": "two words"}


def test_write_refuses_unrepresentable(tmp_path):
    with pytest.raises(InputError, match="brat type"):
        format_ann(Document("d", "ab cd", [Span(0, 2, "two words")]))
    with pytest.raises(InputError, match="file name"):
        write_brat([Document("a/b", "x")], tmp_path)


def test_write_without_text_and_text_dir(tmp_path):
    doc = _one(FIX / "case1.ann")
    ann_dir = tmp_path / "ann"
    write_brat([doc], ann_dir, write_text=False)
    assert not (ann_dir / "case1.txt").exists()
    back = _one(ann_dir, text_dir=FIX)
    assert back.spans == doc.spans and _attrs(back) == _attrs(doc)
    with pytest.raises(InputError, match="text file"):
        list(read_brat(ann_dir))


def test_bom_is_stripped_recorded_and_not_written_back(tmp_path):
    """issue 10 item 6: a .txt written with the BOM put every .ann offset one off for brat and any tool that keeps
    the BOM as a character; the .txt is written exactly as the offsets index it."""
    (tmp_path / "b.txt").write_bytes("\ufeffHIV infection".encode("utf-8"))
    (tmp_path / "b.ann").write_text("T1\tDisease 0 13\tHIV infection\n", encoding="utf-8")
    doc = _one(tmp_path / "b.ann")
    assert doc.meta["bom"] is True and doc.text == "HIV infection"
    out = tmp_path / "out"
    write_brat([doc], out)
    raw = (out / "b.txt").read_bytes().decode("utf-8")  # as brat reads it: a BOM would be character 0
    assert raw[0:13] == "HIV infection"
    assert dict(_one(out / "b.ann").meta) == {}


def _write(tmp_path, text: str, ann: str) -> Path:
    (tmp_path / "x.txt").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "x.ann").write_text(ann, encoding="utf-8", newline="")
    return tmp_path / "x.ann"


def test_mismatch_names_file_line_and_both_strings(tmp_path):
    path = _write(tmp_path, "septic shock", "T1\tDisease 0 6\tseptic\nT2\tDisease 7 11\tshock\n")
    with pytest.raises(OffsetMismatchError) as err:
        list(read_brat(path))
    msg = str(err.value)
    assert "x.ann" in msg and "line 2" in msg and "'shock'" in msg and "'shoc'" in msg
    assert err.value.line == 2
    with pytest.warns(OffsetMismatchWarning, match="skipped"):
        doc = _one(path, on_mismatch="skip")
    assert [s.label for s in doc.spans] == ["Disease"] and len(doc.meta["offset_mismatches"]) == 1
    with pytest.warns(OffsetMismatchWarning, match="kept"):
        doc = _one(path, on_mismatch="warn")
    assert len(doc.spans) == 2 and doc.meta["offset_mismatches"][0]["line"] == 2
    with pytest.raises(ValueError, match="on_mismatch"):
        list(read_brat(path, on_mismatch="ignore"))


def test_discontinuous_mention_joined_by_space(tmp_path):
    path = _write(tmp_path, "left and right lung", "T1\tAnat 0 4;15 19\tleft lung\n")
    assert _one(path).spans[0].fragments == ((0, 4), (15, 19))
    path = _write(tmp_path, "left and right lung", "T1\tAnat 0 4;15 19\tleftlung\n")
    with pytest.raises(OffsetMismatchError):
        list(read_brat(path))


def test_stray_tab_tail_kept(tmp_path):
    path = _write(tmp_path, "8 mg daily", "T1\tDosage 0 4\t8 mg\t \n")
    doc = _one(path)
    assert doc.spans[0].attrs["brat_tail"] == " "
    assert format_ann(doc) == "T1\tDosage 0 4\t8 mg\t \n"


@pytest.mark.parametrize("ann, what", [
    ("T1 Disease 0 6 septic\n", "malformed brat line"),
    ("T1\tDisease 0 6\n", "malformed text-bound"),
    ("T1\tDisease 0 x\tseptic\n", "bad offsets"),
    ("T1\tDisease 0 6\tseptic\nT1\tDisease 0 6\tseptic\n", "duplicate id"),
    ("T1\tDisease 0 60\tseptic\n", "inside the text"),
    ("T1\tDisease 7 12;0 6\tshock septic\n", "ordered"),
    ("T1\tDisease 0 6\tseptic\nA1\tNeg\n", "malformed attribute"),
    ("T1\tDisease 0 6\tseptic\nA1\tNeg T9\n", "T9 is not defined"),
    ("T1\tDisease 0 6\tseptic\nA1\tid T1 x\n", "reserved"),
    ("T1\tDisease 0 6\tseptic\nA1\tNeg T1 a\nA2\tNeg T1 b\n", "set twice"),
    ("T1\tDisease 0 6\tseptic\nN1\tReference T1\n", "malformed normalization"),
    ("T1\tDisease 0 6\tseptic\n#1\tAnnotatorNotes\tx\n", "malformed note"),
    ("T1\tDisease 0 6\tseptic\nE1\tT1\n", "malformed event"),
])
def test_malformed_lines(tmp_path, ann, what):
    path = _write(tmp_path, "septic shock", ann)
    with pytest.raises(FormatError, match=what) as err:
        list(read_brat(path))
    assert err.value.source == str(path) and err.value.line is not None


def test_folder_sorted_and_errors(tmp_path):
    for name in ("b", "a"):
        shutil.copy(FIX / "case1.txt", tmp_path / f"{name}.txt")
        shutil.copy(FIX / "case1.ann", tmp_path / f"{name}.ann")
    assert [d.id for d in read_brat(tmp_path)] == ["a", "b"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no .ann files"):
        list(read_brat(empty))
    with pytest.raises(InputError, match="not found"):
        list(read_brat(tmp_path / "missing.ann"))
    with pytest.raises(InputError, match=".ann file"):
        list(read_brat(FIX / "case1.txt"))


def test_relation_targets_and_crlf_ann(tmp_path):
    path = _write(tmp_path, "septic shock", "T1\tDisease 0 6\tseptic\r\nR1\tX Arg1:T1 Arg2:T1\r\nA1\tConf R1 high\r\n")
    doc = _one(path)
    assert doc.meta["brat_other"] == ["R1\tX Arg1:T1 Arg2:T1", "A1\tConf R1 high"]
    assert format_ann(doc).splitlines()[2] == "A1\tConf R1 high"  # ids of kept lines are not reused
    flagged = doc.with_spans([doc.spans[0].evolve(attrs_update={"flag": True})])
    assert "A2\tflag T1" in format_ann(flagged).splitlines()


@pytest.mark.data
def test_maccrobat_all_documents():
    from imner.config import data_dir

    root = data_dir() / "maccrobat" / "MACCROBAT2020"
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no mismatch warnings either
        docs = list(read_brat(root))
    assert len(docs) == 200
    assert sum(len(d.spans) for d in docs) == 25189
    assert sum(1 for d in docs for s in d.spans if s.fragments) == 44
    n_attr = sum(1 for d in docs for s in d.spans for k in ("POLARITY", "TREND") if k in s.attrs)
    assert n_attr == 1416  # every A line of PROVENANCE attached to a span
    assert not any("offset_mismatches" in d.meta for d in docs)
    assert sum(1 for d in docs for line in d.meta.get("brat_other", ()) if line.startswith("A")) == 0


def test_span_across_a_line_break_is_written_as_fragments(tmp_path):
    # brat's convention: a T line cannot hold the break, so the mention is written as the pieces on each side
    doc = Document("d", "H.\r\ncinaedi grew", [Span(0, 11, "PATHOGEN")])
    assert format_ann(doc) == "T1\tPATHOGEN 0 2;4 11\tH. cinaedi\n"
    write_brat([doc], tmp_path)
    (back,) = read_brat(tmp_path)
    assert back.spans[0].fragments == ((0, 2), (4, 11)) and back.text == doc.text
