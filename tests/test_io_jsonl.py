"""imner JSONL reader/writer (the extraction output contract)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from imner.errors import FormatError, InputError, OffsetMismatchError
from imner.io._common import OffsetMismatchWarning
from imner.io.jsonl import document_to_json, read_jsonl, write_jsonl
from imner.types import Document, Span

FIX = Path(__file__).parent / "fixtures" / "io" / "jsonl" / "docs.jsonl"


def test_read_fixture():
    a, b, c = read_jsonl(FIX)
    assert a.id == "a" and [s.text_in(a.text) for s in a.spans] == ["Fever", "amoxicillin"]
    assert a.spans[0].score == 0.9 and dict(a.spans[0].attrs) == {"assertion": "present"}
    assert dict(a.meta) == {"source": "hand-made"}
    assert b.id == "docs:3" and not b.spans and dict(b.meta) == {"corpus": "x"}  # id from file stem and line
    assert c.id == "7" and c.spans[0].fragments == ((0, 4), (15, 19))


def test_document_to_json_and_round_trip(tmp_path):
    docs = list(read_jsonl(FIX))
    d = document_to_json(docs[0])
    assert d["entities"][0] == {"start": 0, "end": 5, "label": "SIGN_SYMPTOM", "text": "Fever", "score": 0.9,
                                "assertion": "present"}
    out = tmp_path / "out.jsonl"
    assert write_jsonl(docs, out, include_text=True) == 3
    back = list(read_jsonl(out))
    assert [(x.id, x.text, x.spans) for x in back] == [(x.id, x.text, x.spans) for x in docs]
    assert [[dict(s.attrs) for s in x.spans] for x in back] == [[dict(s.attrs) for s in x.spans] for x in docs]
    assert [dict(x.meta) for x in back] == [dict(x.meta) for x in docs]


def test_write_default_leaves_text_out():
    buf = io.StringIO()
    doc = Document("d", "Fever", [Span(0, 5, "SIGN_SYMPTOM", 0.5)])
    write_jsonl([doc], buf)
    line = json.loads(buf.getvalue())
    assert line == {"id": "d", "entities": [{"start": 0, "end": 5, "label": "SIGN_SYMPTOM", "text": "Fever",
                                             "score": 0.5}]}
    assert buf.getvalue().count("\n") == 1


def _write(tmp_path, content: str) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text(content, encoding="utf-8")
    return p


@pytest.mark.parametrize("content, exc, what", [
    ('{"id": "x"}\n', InputError, 'no "text"'),
    ('{"id": "x", "text": 3}\n', InputError, "not a string"),
    ('{"text": "ok"}\n{"text": "broken"\n', FormatError, "invalid JSON"),
    ('[1, 2]\n', FormatError, "JSON object"),
    ('{"text": "abc", "entities": [{"start": 0, "label": "X"}]}\n', InputError, "entity 0"),
    ('{"text": "abc", "entities": [{"start": 2, "end": 1, "label": "X"}]}\n', InputError, "entity 0"),
    ('{"text": "abc", "entities": [{"start": 0, "end": 9, "label": "X"}]}\n', FormatError, "inside the text"),
    ('{"text": "abc", "entities": {"start": 0}}\n', InputError, "must be a list"),
    ('{"text": "abc", "entities": [], "spans": []}\n', InputError, "not both"),
    ('{"text": "abc", "id": [1]}\n', InputError, "id"),
])
def test_bad_lines_name_file_and_line(tmp_path, content, exc, what):
    p = _write(tmp_path, content)
    with pytest.raises(exc, match=what) as err:
        list(read_jsonl(p))
    assert err.value.source == str(p) and err.value.line == content.count("\n")
    assert "in.jsonl" in str(err.value)


def test_missing_text_message_lists_what_is_allowed(tmp_path):
    with pytest.raises(InputError) as err:
        list(read_jsonl(_write(tmp_path, '{"id": "x", "entities": []}\n')))
    assert "line 1" in str(err.value) and '"id"' in str(err.value) and '"entities"' in str(err.value)


def test_entity_text_mismatch(tmp_path):
    p = _write(tmp_path, '{"text": "Fever", "entities": [{"start": 0, "end": 4, "label": "X", "text": "Fever"}]}\n')
    with pytest.raises(OffsetMismatchError, match="'Feve'"):
        list(read_jsonl(p))
    with pytest.warns(OffsetMismatchWarning):
        (doc,) = read_jsonl(p, on_mismatch="skip")
    assert not doc.spans and len(doc.meta["offset_mismatches"]) == 1


def test_encoding_errors(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(InputError, match="byte offset 28") as err:
        list(read_jsonl(p))
    assert err.value.line == 2
    p.write_bytes(b'\xef\xbb\xbf{"text": "bom first"}\r\n')
    (doc,) = read_jsonl(p)
    assert doc.text == "bom first"
    with pytest.raises(InputError, match="not found"):
        list(read_jsonl(tmp_path / "missing.jsonl"))


def test_a_long_record_is_written_in_pieces_that_make_the_same_line(tmp_path, monkeypatch):
    """A document of many entities is written entity by entity: the same bytes as the whole line, every option."""
    import imner.io.jsonl as jl
    from imner.io import DocumentWriter

    text = "Fever, rash and SLE in café 1; " * 3
    spans = tuple(Span(i * 31, i * 31 + 5, "SIGN_SYMPTOM", 0.5, {"negated": False, "codes": ["x"], "n": None})
                  for i in range(3))
    doc = Document("d\u00e9", text, spans, {"patient": {"age": 34, "sex": "female"}, "source": Path("a")})
    short = jl.jsonl_record_pieces(doc)
    assert isinstance(short, str) and short == jl.jsonl_record(doc)
    monkeypatch.setattr(jl, "STREAM_ENTITIES", 1)
    for opts in ({}, {"include_text": True}, {"include_meta": True}, {"include_text": True, "include_meta": True}):
        pieces = list(jl.jsonl_record_pieces(doc, **opts))
        assert len(pieces) > 3 and "".join(pieces) == jl.jsonl_record(doc, **opts)
    empty = Document("e", "no entities", (), {})
    assert jl.jsonl_record_pieces(empty) == jl.jsonl_record(empty)
    out = tmp_path / "out.jsonl"
    with DocumentWriter("jsonl", out, include_text=True) as w:
        w.write(doc)
        w.write(empty)
    assert out.read_text(encoding="utf-8") == jl.jsonl_record(doc, include_text=True) + jl.jsonl_record(
        empty, include_text=True)


def test_a_record_in_pieces_that_fails_leaves_whole_records_only(tmp_path, monkeypatch):
    import imner.io.jsonl as jl
    from imner.errors import OutputError
    from imner.io import DocumentWriter

    monkeypatch.setattr(jl, "STREAM_ENTITIES", 1)
    spans = tuple(Span(0, 5, "SIGN_SYMPTOM", 0.5) for _ in range(4))
    docs = [Document(f"d{i}", "Fever here", spans) for i in range(2)]
    out = tmp_path / "out.jsonl"
    w = DocumentWriter("jsonl", out).open()
    w.write(docs[0])
    real = jl._record_pieces

    def failing(doc, *a):
        for k, piece in enumerate(real(doc, *a)):
            if k == 3:
                raise OSError(28, "No space left on device")
            yield piece

    monkeypatch.setattr(jl, "_record_pieces", failing)
    with pytest.raises(OutputError, match="No space left"):
        w.write(docs[1])
    w.close()
    kept = w.kept.read_text(encoding="utf-8")
    assert kept == jl.jsonl_record(docs[0])  # the half-written second record is cut away
