import pytest

from imner.errors import InputError, OffsetMismatchError
from imner.schema import LABEL_NAMES, get
from imner.errors import LabelError
from imner.types import Document, Span, span_from_dict


def test_span_validation():
    with pytest.raises(InputError):
        Span(5, 5, "X")
    with pytest.raises(InputError):
        Span(-1, 2, "X")
    with pytest.raises(InputError, match="fragments"):
        Span(0, 10, "X", fragments=((0, 3), (2, 10)))


def test_span_is_immutable_and_attrs_read_only():
    s = Span(0, 3, "X", attrs={"negated": True})
    with pytest.raises(Exception):
        s.start = 2
    with pytest.raises(TypeError):
        s.attrs["negated"] = False
    assert s.evolve(attrs_update={"uncertain": True}).attrs == {"negated": True, "uncertain": True}


def test_discontinuous_text_and_dict_round_trip():
    text = "right and left kidney"
    s = Span(0, 21, "ANATOMY", 0.9, {"id": "T1"}, ((0, 5), (15, 21)))
    assert s.text_in(text) == "right kidney"
    d = s.to_dict(text)
    assert d["text"] == "right kidney" and d["id"] == "T1"
    assert span_from_dict(d) == s and span_from_dict(d).attrs == s.attrs


def test_document_sorts_and_checks_bounds():
    doc = Document("d", "no fever", (Span(3, 8, "SIGN_SYMPTOM"), Span(0, 2, "X")))
    assert [s.start for s in doc.spans] == [0, 3]
    with pytest.raises(InputError, match="past the end"):
        Document("d", "abc", (Span(0, 4, "X"),))
    with pytest.raises(OffsetMismatchError, match="fevre"):
        doc.check_mention(doc.spans[1], "fevre", source="x.ann", line=3)


def test_schema_has_twelve_labels():
    assert len(LABEL_NAMES) == 12 and get("PATHOGEN").color.startswith("#")
    with pytest.raises(LabelError, match="allowed"):
        get("DISEASE")
