"""CoNLL/IOB reader/writer."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from imner.errors import FormatError, InputError
from imner.io.conll import MisalignedSpanWarning, document_from_conll, read_conll, write_conll
from imner.types import Document, Span

FIX = Path(__file__).parent / "fixtures" / "io" / "conll"


def _mentions(doc: Document) -> list[tuple[str, str]]:
    return [(s.text_in(doc.text), s.label) for s in doc.spans]


def test_read_single_document():
    (doc,) = read_conll(FIX / "ncbi_like.tsv")
    assert doc.id == "ncbi_like"
    assert doc.text == "Lupus nephritis was treated .\nNo sepsis or HIV-1 infection ."
    assert _mentions(doc) == [("Lupus nephritis", "Disease"), ("sepsis", "Disease"), ("HIV-1", "Pathogen"),
                              ("infection", "Disease")]
    assert doc.meta["source_format"] == "conll"


def test_read_docstart_and_columns():
    docs = list(read_conll(FIX / "conll2003_like.txt"))
    assert [d.id for d in docs] == ["conll2003_like:0", "conll2003_like:1"]
    assert docs[0].text == "EU rejects German\nPeter Blackburn"
    assert _mentions(docs[0]) == [("EU", "ORG"), ("German", "MISC"), ("Peter Blackburn", "PER")]
    chunks = list(read_conll(FIX / "conll2003_like.txt", tag_col=2))
    assert _mentions(chunks[0])[0] == ("EU", "NP")
    sents = list(read_conll(FIX / "conll2003_like.txt", sentences_as_docs=True))
    assert [d.text for d in sents] == ["EU rejects German", "Peter Blackburn", "BRUSSELS 1996-08-22"]
    assert [d.id for d in sents] == ["conll2003_like:0", "conll2003_like:1", "conll2003_like:2"]


def test_empty_docstart_segment_and_crlf(tmp_path):
    p = tmp_path / "x.iob"
    p.write_bytes(b"-DOCSTART-\tO\r\n\r\n-DOCSTART-\tO\r\nFever\tB-S\r\n")
    docs = list(read_conll(p))
    assert [(d.id, d.text) for d in docs] == [("x:0", ""), ("x:1", "Fever")]


def test_bioes_and_stray_inside_tags():
    doc = document_from_conll([[("a", "S-X"), ("b", "B-Y"), ("c", "E-Y"), ("d", "O"), ("e", "I-Z"), ("f", "I-Z")]])
    assert _mentions(doc) == [("a", "X"), ("b c", "Y"), ("e f", "Z")]


@pytest.mark.parametrize("content, what, line", [
    ("a\tO\nb\tO\textra\n", "3 column", 2),
    ("a\tO\nb\tB_X\n", "malformed tag 'B_X'", 2),
    ("a\tO\n\nb\tX-Y\n", "malformed tag", 3),
    ("\ta\tO\n", "empty token", 1),
])
def test_malformed(tmp_path, content, what, line):
    p = tmp_path / "bad.tsv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError, match=what) as err:
        list(read_conll(p))
    assert err.value.source == str(p) and err.value.line == line


def test_missing_column(tmp_path):
    p = tmp_path / "one.tsv"
    p.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(FormatError, match="column 3 does not exist"):
        list(read_conll(p, tag_col=3))
    with pytest.raises(InputError, match="folder"):
        list(read_conll(tmp_path))


def test_round_trip_is_exact(tmp_path):
    for name in ("ncbi_like.tsv", "conll2003_like.txt"):
        docs = list(read_conll(FIX / name))
        out = tmp_path / name
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert write_conll(docs, out) == []
        back = list(read_conll(out))
        assert [(d.text, d.spans) for d in back] == [(d.text, d.spans) for d in docs]
    # a single-document file comes back byte for byte
    assert (tmp_path / "ncbi_like.tsv").read_bytes() == (FIX / "ncbi_like.tsv").read_bytes()


def test_write_bioes(tmp_path):
    (doc,) = read_conll(FIX / "ncbi_like.tsv")
    buf = io.StringIO()
    write_conll([doc], buf, scheme="BIOES")
    assert buf.getvalue().startswith("Lupus\tB-Disease\nnephritis\tE-Disease\nwas\tO\n")
    assert "sepsis\tS-Disease\n" in buf.getvalue()


def test_write_reports_spans_it_cannot_hold(tmp_path):
    text = "Anti-dsDNA antibodies were high.\nFever and rash."
    spans = [Span(0, 4, "TEST"),                                  # ends inside the token "Anti-dsDNA"
             Span(0, 21, "TEST"),                                 # fine
             Span(27, 39, "X"),                                   # crosses the sentence break
             Span(33, 38, "SIGN_SYMPTOM"),                        # fine: "Fever"
             Span(33, 47, "SIGN_SYMPTOM", fragments=((33, 38), (43, 47))),   # discontinuous
             Span(43, 47, "SIGN_SYMPTOM"), Span(43, 47, "OTHER")]  # overlapping duplicates: one is reported
    doc = Document("d", text, spans)
    out = tmp_path / "out.tsv"
    with pytest.warns(MisalignedSpanWarning, match="4 span"):
        bad = write_conll([doc], out)
    assert sorted((s.start, s.end, s.label) for _, s in bad) == [
        (0, 4, "TEST"), (27, 39, "X"), (33, 47, "SIGN_SYMPTOM"), (43, 47, "SIGN_SYMPTOM")]
    assert all(d == "d" for d, _ in bad)
    content = out.read_text(encoding="utf-8")
    assert content.startswith("Anti-dsDNA\tB-TEST\nantibodies\tI-TEST\nwere\tO\n")
    (back,) = read_conll(out)
    assert _mentions(back) == [("Anti-dsDNA antibodies", "TEST"), ("Fever", "SIGN_SYMPTOM"), ("rash", "OTHER")]


@pytest.mark.data
def test_ncbi_disease_iob_counts():
    from imner.config import data_dir

    path = data_dir() / "ncbi_disease" / "conll_iob" / "devel.tsv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    (doc,) = read_conll(path)
    assert len(doc.spans) == 787 and doc.text.count("\n") + 1 == 923
    buf = io.StringIO()
    assert write_conll([doc], buf) == []
    assert buf.getvalue() == path.read_text(encoding="utf-8")
