"""PubTator reader/writer."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from imner.errors import FormatError, InputError, OffsetMismatchError
from imner.io._common import OffsetMismatchWarning
from imner.io.pubtator import format_pubtator, parse_pubtator, read_pubtator, write_pubtator
from imner.types import Document, Span

FIX = Path(__file__).parent / "fixtures" / "io" / "pubtator" / "sample.pubtator"


def test_read_fixture():
    docs = list(read_pubtator(FIX))
    assert [d.id for d in docs] == ["1001", "1002", "1003"]
    d1, d2, d3 = docs
    assert d1.text.startswith("Lupus nephritis in a patient with Crohn disease. We describe")
    assert d1.meta["title_end"] == len("Lupus nephritis in a patient with Crohn disease.")
    assert [s.text_in(d1.text) for s in d1.spans][:2] == ["Lupus nephritis", "Crohn disease"]
    ids = [s.attrs.get("id") for s in d1.spans]
    assert ids == ["D008181", "D003424", "D008180", "D008180", "D007674|D008180", "OMIM:191390", ""]
    assert "relations" not in d1.meta
    composite = d2.spans[-1]
    assert composite.attrs["pubtator_extra"] == ["Breast cancer|ovarian cancer"]
    assert d2.meta["relations"] == [["CID", "D000658", "D012772"], ["Association", "D000658", "D018805", "Novel"]]
    assert d3.text == "A title without abstract about measles." and d3.meta["title_end"] == len(d3.text)
    assert "id" not in d3.spans[0].attrs  # five-column line


def test_round_trip_is_byte_exact(tmp_path):
    docs = list(read_pubtator(FIX))
    out = tmp_path / "out.pubtator"
    assert write_pubtator(docs, out) == 3
    assert out.read_bytes() == FIX.read_bytes()
    back = list(read_pubtator(out))
    assert [d.text for d in back] == [d.text for d in docs]
    assert [d.spans for d in back] == [d.spans for d in docs]
    assert [[dict(s.attrs) for s in d.spans] for d in back] == [[dict(s.attrs) for s in d.spans] for d in docs]
    assert [dict(d.meta) for d in back] == [dict(d.meta) for d in docs]
    buf = io.StringIO()
    write_pubtator(docs, buf)
    assert buf.getvalue() == FIX.read_text(encoding="utf-8")


def test_duplicate_pmids_and_no_blank_line_between_records():
    content = "7|t|Fever.\n7|a|Rash.\n7\t0\t5\tFever\tD\n7|t|Fever.\n7|a|Cough.\n"
    docs = list(parse_pubtator(content))
    assert [d.id for d in docs] == ["7", "7"] and [d.text for d in docs] == ["Fever. Rash.", "Fever. Cough."]
    assert len(docs[0].spans) == 1 and not docs[1].spans


def test_mismatch_raise_warn_skip(tmp_path):
    path = tmp_path / "m.pubtator"
    path.write_text("5|t|Sepsis.\n5|a|Shock \" plus \" here.\n5\t0\t6\tSepsis\tD\tX\n"
                    "5\t8\t22\tShock \" plus \"  \tD\tY\n\n", encoding="utf-8")
    with pytest.raises(OffsetMismatchError) as err:
        list(read_pubtator(path))
    assert err.value.line == 4 and "m.pubtator" in str(err.value)
    assert err.value.expected == 'Shock " plus "  ' and err.value.found == 'Shock " plus "'
    with pytest.warns(OffsetMismatchWarning):
        (doc,) = read_pubtator(path, on_mismatch="skip")
    assert [s.attrs["id"] for s in doc.spans] == ["X"] and doc.meta["offset_mismatches"][0]["line"] == 4
    with pytest.warns(OffsetMismatchWarning):
        (doc,) = read_pubtator(path, on_mismatch="warn")
    assert [s.attrs["id"] for s in doc.spans] == ["X", "Y"]


@pytest.mark.parametrize("content, what", [
    ("1|a|abstract first\n", "must follow its title"),
    ("1|t|T\n1|x|what\n", "unknown text line kind"),
    ("1|t|T\n2\t0\t1\tT\tD\n", "PMID 2 inside the record of 1"),
    ("1|t|Title\n1\t0\t5\tTitle\n", "at least 5"),
    ("garbage line\n", "malformed PubTator line"),
    ("1|t|Title\n1\t0\t50\tTitle\tD\n", "inside the text"),
    ("1|t|Title\n1\t0\t5\tTitle\tD\n1|a|late abstract\n", "must follow its title"),
])
def test_malformed(content, what):
    with pytest.raises(FormatError, match=what) as err:
        list(parse_pubtator(content, source="f.txt"))
    assert err.value.source == "f.txt" and err.value.line is not None


def test_write_generic_documents(tmp_path):
    doc = Document("9", "Fever with rash", [Span(0, 5, "SIGN_SYMPTOM", 0.9, {"assertion": "present"})])
    text = format_pubtator(doc)
    assert text == "9|t|Fever with rash\n9\t0\t5\tFever\tSIGN_SYMPTOM\n\n"
    (back,) = parse_pubtator(text)
    assert back.text == doc.text and [s.key for s in back.spans] == [s.key for s in doc.spans]
    assert back.spans[0].score is None  # PubTator has no place for scores or other attrs
    with pytest.raises(InputError, match="line breaks"):
        format_pubtator(Document("9", "a\nb"))
    with pytest.raises(InputError, match="PMID"):
        format_pubtator(Document("a|b", "x"))
    with pytest.raises(InputError, match="title_end"):
        format_pubtator(Document("9", "Title.Abstract", meta={"title_end": 3}))
    disc = Document("9", "left and right lung", [Span(0, 19, "ANAT", fragments=((0, 4), (15, 19)))])
    with pytest.warns(UserWarning, match="discontinuous"):
        assert "\t0\t19\tleft and right lung\t" in format_pubtator(disc)


def test_missing_and_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        list(read_pubtator(tmp_path / "nope.txt"))
    with pytest.raises(InputError, match="folder"):
        list(read_pubtator(tmp_path))


@pytest.mark.data
def test_ncbi_disease_original_files():
    from imner.config import data_dir

    root = data_dir() / "ncbi_disease" / "original"
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dev = list(read_pubtator(root / "NCBIdevelopset_corpus.txt"))
        test = list(read_pubtator(root / "NCBItestset_corpus.txt"))
    assert (len(dev), sum(len(d.spans) for d in dev)) == (100, 787)
    assert (len(test), sum(len(d.spans) for d in test)) == (100, 960)
    train_path = root / "NCBItrainset_corpus.txt"
    # the one upstream quirk: a mention with two trailing spaces that the text does not have
    with pytest.raises(OffsetMismatchError) as err:
        list(read_pubtator(train_path))
    assert err.value.line == 3249 and err.value.found == 'generalized epilepsy and febrile seizures " plus "'
    with pytest.warns(OffsetMismatchWarning) as caught:
        train = list(read_pubtator(train_path, on_mismatch="skip"))
    assert len(caught) == 1
    assert len(train) == 593 and len({d.id for d in train}) == 592  # PMID 8528200 twice, both yielded
    assert sum(len(d.spans) for d in train) == 5144
    assert sum(len(d.meta.get("offset_mismatches", ())) for d in train) == 1
