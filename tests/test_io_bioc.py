"""BioC JSON/XML reader/writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imner.errors import FormatError, InputError, OffsetMismatchError
from imner.io._common import OffsetMismatchWarning
from imner.io.bioc import read_bioc, write_bioc
from imner.types import Document, Span

FIX = Path(__file__).parent / "fixtures" / "io" / "bioc" / "sample.json"


def _summary(docs):
    return [(d.id, d.text, d.spans, [s.score for s in d.spans], [dict(s.attrs) for s in d.spans], dict(d.meta))
            for d in docs]


def test_read_passages_at_offsets_and_annotations():
    d1, d2 = read_bioc(FIX)
    title = "Measles pneumonia in an adult."
    assert d1.text.startswith(title + "   Left and right lung")  # 3-character gap padded with spaces
    assert [(s.text_in(d1.text), s.label) for s in d1.spans] == [
        ("Measles pneumonia", "INFECTIOUS_DISEASE"), ("Left lung", "ANATOMY"), ("measles virus", "PATHOGEN"),
        ("vitamin A", "DRUG")]
    left_lung = d1.spans[1]
    assert left_lung.fragments is not None and len(left_lung.fragments) == 2
    virus = d1.spans[2]
    assert virus.score == 0.87 and dict(virus.attrs) == {"id": "3", "identifier": "NCBITaxon:11234"}
    assert d1.meta["bioc_infons"] == {"license": "CC BY"}
    assert d1.meta["bioc_relations"][0]["nodes"][0] == {"refid": "3", "role": "agent"}
    assert d1.meta["bioc_collection"]["source"] == "hand-made"
    assert d2.text == "Fever. HIV positive."  # passage made of sentences
    assert [s.text_in(d2.text) for s in d2.spans] == ["Fever"]


@pytest.mark.parametrize("suffix", [".json", ".xml"])
def test_round_trip(tmp_path, suffix):
    docs = list(read_bioc(FIX))
    out = tmp_path / f"out{suffix}"
    assert write_bioc(docs, out) == 2
    back = list(read_bioc(out))
    assert _summary(back) == _summary(docs)


def test_write_generic_document(tmp_path):
    doc = Document("d", "Fever and rash.", [Span(0, 5, "SIGN_SYMPTOM", 0.5, {"assertion": "present", "codes": ["X"]})])
    out = tmp_path / "g.json"
    write_bioc([doc], out)
    raw = json.loads(out.read_text(encoding="utf-8"))
    (passage,) = raw["documents"][0]["passages"]
    assert passage["offset"] == 0 and passage["text"] == doc.text
    (ann,) = passage["annotations"]
    assert ann["infons"] == {"type": "SIGN_SYMPTOM", "assertion": "present", "codes": '["X"]', "score": "0.5"}
    assert ann["locations"] == [{"offset": 0, "length": 5}] and ann["text"] == "Fever"
    (back,) = read_bioc(out)
    assert back.spans == doc.spans and dict(back.spans[0].attrs)["codes"] == '["X"]'  # infons are strings


def test_write_refuses_text_outside_passages(tmp_path):
    doc = Document("d", "Title. Body", meta={"bioc_passages": [{"offset": 0, "infons": {}, "length": 6}]})
    with pytest.raises(InputError, match="outside every passage"):
        write_bioc([doc], tmp_path / "x.json")


def _mutated(tmp_path, change) -> Path:
    obj = json.loads(FIX.read_text(encoding="utf-8"))
    change(obj)
    p = tmp_path / "m.json"
    p.write_text(json.dumps(obj), encoding="utf-8")
    return p


def test_mention_mismatch(tmp_path):
    def change(obj):
        obj["documents"][0]["passages"][1]["annotations"][2]["text"] = "vitamin D"
    p = _mutated(tmp_path, change)
    with pytest.raises(OffsetMismatchError, match="'vitamin D'.*'vitamin A'") as err:
        list(read_bioc(p))
    assert "m.json" in str(err.value) and "annotation '4'" in str(err.value)
    with pytest.warns(OffsetMismatchWarning):
        d1, _ = read_bioc(p, on_mismatch="skip")
    assert [s.label for s in d1.spans] == ["INFECTIOUS_DISEASE", "ANATOMY", "PATHOGEN"]


@pytest.mark.parametrize("change, what", [
    (lambda o: o["documents"][0]["passages"][0]["annotations"][0]["infons"].pop("type"), "no 'type' infon"),
    (lambda o: o["documents"][0]["passages"][1].update(offset=5), "must not overlap"),
    (lambda o: o["documents"][0]["passages"][0]["annotations"][0]["locations"][0].update(length=999),
     "inside the text"),
    (lambda o: o["documents"][0]["passages"][0]["annotations"][0].update(locations=[]), "no location"),
    (lambda o: o.pop("key"), "misses the key 'key'"),
    (lambda o: o.pop("documents"), "BioC JSON collection"),
])
def test_malformed(tmp_path, change, what):
    p = _mutated(tmp_path, change)
    with pytest.raises(FormatError, match=what) as err:
        list(read_bioc(p))
    assert "m.json" in str(err.value)


def test_invalid_json_and_folder(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"source": "x",\n "documents": [}', encoding="utf-8")
    with pytest.raises(FormatError, match="invalid JSON") as err:
        list(read_bioc(p))
    assert err.value.line == 2
    with pytest.raises(InputError, match="folder"):
        list(read_bioc(tmp_path))
