"""Fuzzing in CI (issue 10): every reader on generated and mutated files, the tokenizer and sentence splitter, and
the extract path, with hypothesis. The property is always the same: either a clear :class:`~imner.errors.ImnerError`
(one line, naming where), or documents whose offsets index their text exactly.

Bounded in time: each test has a fixed ``max_examples`` and no deadline; the whole file runs in well under a
minute on 2 cores (docs/reliability.md records the examples and time). Crashers found are kept as fixtures in
``tests/fixtures/fuzz/`` and replayed by :func:`test_kept_crashers`. Longer runs outside CI:
``python benchmarks/fuzz_atheris.py``.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imner.errors import ImnerError
from imner.types import Document, Span

#: IMNER_FUZZ_SCALE=10 runs ten times the examples, with fresh random seeds (a longer local search)
SCALE = int(os.environ.get("IMNER_FUZZ_SCALE", "1"))
FUZZ = settings(max_examples=120 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=SCALE == 1, database=None)
FEW = settings(max_examples=40 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow],
               derandomize=SCALE == 1, database=None)
CRASHERS = Path(__file__).parent / "fixtures" / "fuzz"

# text with what breaks formats: tabs, pipes, CR/LF, BOM, combining marks, emoji, RTL, NUL-free
_ALPHABET = st.one_of(
    st.sampled_from(list("ab Ff.,;:-()/|\t\n\r{}[]\"'\\#=0123456789")),
    st.sampled_from(["\ufeff", "\u0301", "\u0308", "é", "ü", "ß", "😀", "\u05d0", "\u200b", "\u2028", "\x85",
                     "한"]),
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
)
texts = st.text(_ALPHABET, max_size=60)


@st.composite
def documents(draw) -> Document:
    text = draw(st.text(_ALPHABET, min_size=1, max_size=60))
    n = len(text)
    spans = []
    for a, b in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, n)), max_size=4)):
        if a < b:
            spans.append(Span(a, b, draw(st.sampled_from(["Disease", "SIGN_SYMPTOM", "X"]))))
    return Document(draw(st.sampled_from(["d1", "12", "doc-a"])), text, tuple(spans))


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with a few bytes deleted, inserted or replaced."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["del", "ins", "rep"]))
        pos = draw(st.integers(0, max(0, len(buf) - 1))) if buf else 0
        byte = draw(st.sampled_from([0x09, 0x0A, 0x0D, 0x20, 0x7C, 0x22, 0x7B, 0x7D, 0x30, 0x39, 0xC3, 0xFF,
                                     0x3A, 0x3B, 0x41, 0x23]))
        if op == "del" and buf:
            del buf[pos]
        elif op == "ins":
            buf.insert(pos, byte)
        elif buf:
            buf[pos] = byte
    return bytes(buf)


def check_documents(docs) -> list[Document]:
    """The property: every span lies inside its text and, where a reader kept a mention, matches it."""
    out = list(docs)
    for doc in out:
        assert isinstance(doc.text, str)
        for s in doc.spans:
            assert 0 <= s.start < s.end <= len(doc.text)
            for a, b in s.fragments or ((s.start, s.end),):
                assert 0 <= a < b <= len(doc.text)
    return out


def expect_clean(read):
    """Run ``read()``: an ImnerError is fine (with a one-line message of bounded length); anything else fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return check_documents(read())
        except ImnerError as exc:
            msg = str(exc)
            assert msg and len(msg) < 2000
            return None


_DIR = Path(tempfile.mkdtemp(prefix="imner-fuzz-"))


def _tmp(data: bytes, name: str) -> Path:
    """``data`` in a file called ``name`` (one folder per test process, files rewritten)."""
    for old in _DIR.iterdir():
        old.unlink()
    p = _DIR / name
    p.write_bytes(data)
    return p


# ------------------------------------------------------------------------------------------------- readers

@FUZZ
@given(st.data())
def test_brat_reader(data):
    from imner.io.brat import format_ann, read_brat

    doc = data.draw(documents())
    ann = format_ann(doc).encode("utf-8")
    txt = doc.text.encode("utf-8")
    if data.draw(st.booleans()):
        ann = data.draw(mutated(ann))
    else:
        txt = data.draw(mutated(txt))
    p = _tmp(ann, "x.ann")
    p.with_suffix(".txt").write_bytes(txt)
    docs = expect_clean(lambda: read_brat(p))
    if docs and ann == format_ann(doc).encode("utf-8") and txt == doc.text.encode("utf-8") \
            and "\r" not in doc.text and not doc.text.startswith("\ufeff"):
        assert docs[0].text == doc.text


@FUZZ
@given(st.data())
def test_pubtator_reader(data):
    from imner.io.pubtator import format_pubtator, parse_pubtator

    doc = data.draw(documents())
    text = "".join(c for c in doc.text if c not in "\r\n\x85\u2028") or "x"
    doc = Document("123", text, tuple(s for s in doc.spans if s.end <= len(text)))
    try:
        content = format_pubtator(doc)
    except ImnerError:
        content = f"123|t|{text}\n"
    raw = data.draw(mutated(content.encode("utf-8")))
    expect_clean(lambda: parse_pubtator(raw.decode("utf-8", errors="replace")))
    p = _tmp(raw, "x.pubtator")
    from imner.io.pubtator import read_pubtator

    expect_clean(lambda: read_pubtator(p))


@FUZZ
@given(st.data())
def test_conll_reader(data):
    from imner.io.conll import conll_record, read_conll

    docs = [data.draw(documents()) for _ in range(data.draw(st.integers(1, 3)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        content = "".join(conll_record(d) for d in docs).encode("utf-8")
    raw = data.draw(mutated(content))
    p = _tmp(raw, "x.conll")
    got = expect_clean(lambda: read_conll(p))
    if raw == content and got is not None:
        assert len(got) == len(docs)   # -DOCSTART- keeps the boundaries


@FUZZ
@given(st.data())
def test_bioc_json_reader(data):
    from imner.io.bioc import read_bioc, to_bioc_collection
    from bioc import biocjson

    doc = data.draw(documents())
    content = biocjson.dumps(to_bioc_collection([doc])).encode("utf-8")
    raw = data.draw(mutated(content))
    expect_clean(lambda: read_bioc(_tmp(raw, "x.json")))


@FEW
@given(st.data())
def test_bioc_xml_reader(data):
    from imner.io.bioc import check_xml_text, read_bioc, to_bioc_collection
    from bioc import biocxml

    doc = data.draw(documents())
    try:
        check_xml_text(doc)        # found by this test: lxml's ValueError on control characters
    except ImnerError:
        return
    content = biocxml.dumps(to_bioc_collection([doc])).encode("utf-8")
    raw = data.draw(mutated(content))
    expect_clean(lambda: read_bioc(_tmp(raw, "x.xml")))


@FUZZ
@given(st.data())
def test_jsonl_reader(data):
    from imner.io.jsonl import dumps_document, read_jsonl

    docs = [data.draw(documents()) for _ in range(data.draw(st.integers(1, 3)))]
    content = "".join(dumps_document(d, include_text=True) + "\n" for d in docs).encode("utf-8")
    raw = data.draw(mutated(content))
    got = expect_clean(lambda: read_jsonl(_tmp(raw, "x.jsonl")))
    if raw == content:
        assert [(d.text, d.spans) for d in got] == [(d.text, d.spans) for d in docs]


@FUZZ
@given(st.binary(max_size=200))
def test_extraction_inputs_on_any_bytes(raw):
    from imner.io.inputs import iter_inputs

    for name in ("x.txt", "x.jsonl"):
        got = expect_clean(lambda: iter_inputs(_tmp(raw, name)))
        if got is not None and name == "x.txt":
            assert len(got) == 1


# ------------------------------------------------------------------------------------ tokenizer, sentences

@FUZZ
@given(texts)
def test_tokenizer_and_sentence_splitter_keep_offsets(text):
    from imner.text import sentences_with_tokens, split_sentences, tokenize

    toks = tokenize(text)
    last = 0
    for t in toks:
        assert text[t.start:t.end] == t.text and t.start >= last and t.end > t.start
        last = t.end
    assert "".join(t.text for t in toks) == "".join(text.split())   # every non-space character, once
    prev = 0
    for (s, e), stoks in sentences_with_tokens(text):
        assert prev <= s < e <= len(text)
        assert all(s <= t.start and t.end <= e for t in stoks)
        prev = e
    for s, e in split_sentences(text):
        assert 0 <= s < e <= len(text)


@FUZZ
@given(texts)
def test_nfc_offset_map(text):
    from imner.nfc import to_nfc

    nfd = unicodedata.normalize("NFD", text)
    nfc, om = to_nfc(nfd)
    assert nfc == unicodedata.normalize("NFC", nfd)
    for i in range(len(nfc) + 1):
        assert 0 <= om.start(i) <= om.end(i) <= len(nfd) or om.start(i) <= len(nfd)
    assert om.start(0) == 0 and om.end(len(nfc)) == len(nfd)


# ------------------------------------------------------------------------------------------- extract path

@pytest.fixture(scope="module")
def pipe():
    from imner.pipeline import Pipeline, load_pipeline
    from imner.taggers.dictionary import DictionaryTagger

    full = load_pipeline(None, assertion=True, normalize=True, patient=True)
    return Pipeline(DictionaryTagger(), full.steps)   # the fast tagger, the real steps


_CLINICAL = st.sampled_from(["Sjögren syndrome", "Behçet disease", "fever", "no fever", "tuberculosis",
                             "34-year-old woman", "HIV", "rash", "history of lupus", "\r\n", " ", "(SLE)",
                             "systemic lupus erythematosus", "Staphylococcus aureus", "mother had asthma"])


@FEW
@given(st.lists(st.one_of(_CLINICAL, texts), min_size=1, max_size=8), st.sampled_from(["NFC", "NFD"]))
def test_extract_path_offsets_index_the_input(pipe, parts, form):
    from imner.io import DocumentWriter
    from imner.io.jsonl import read_jsonl

    text = unicodedata.normalize(form, " ".join(parts))
    (doc,) = pipe([Document("d", text)])
    assert doc.text == text
    check_documents([doc])
    for key, ev in (doc.meta.get("patient") or {}).items():
        if isinstance(ev, dict) and "start" in ev:
            assert text[ev["start"]:ev["end"]] == ev["text"]
    out = _DIR / "out.jsonl"
    with DocumentWriter("jsonl", out, include_text=True) as w:
        w.write(doc)
    (back,) = read_jsonl(out)            # the reader checks each entity's text against its offsets
    assert back.text == text and [s.key for s in back.spans] == [s.key for s in doc.spans]


# ---------------------------------------------------------------------------------------- kept crashers

def _crashers():
    return sorted(p for p in CRASHERS.glob("*") if p.suffix != ".md") if CRASHERS.is_dir() else []


@pytest.mark.parametrize("path", _crashers(), ids=lambda p: p.name)
def test_kept_crashers(path):
    """Inputs the fuzzers once crashed on: each reader named by the suffix now gives documents or an ImnerError."""
    from imner.io import iter_documents

    fmt = {".ann": "brat", ".pubtator": "pubtator", ".conll": "conll", ".json": "bioc", ".xml": "bioc",
           ".jsonl": "jsonl"}[path.suffix]
    expect_clean(lambda: iter_documents(path, fmt))
