"""The review markup of the CodiEsp part of imd-cases: offsets into the original text, and errors that name the line."""

from __future__ import annotations

import pytest

from imner_dev.annotation.codiesp import parse, render

TEXT = "No fever.\nSerology for HIV was negative; lupus nephritis (LN) confirmed."


def test_parse_gives_offsets_into_the_original_text_with_flags_and_notes() -> None:
    markup = ("No [[fever|SIGN_SYMPTOM|neg]].\n[[Serology|DIAGNOSTIC_PROCEDURE]] for [[HIV|PATHOGEN|neg]] was "
              "[[negative|LAB_VALUE]]; [[lupus nephritis|IMMUNE_DISEASE|#rule 2]] ([[LN|IMMUNE_DISEASE|unc]]) confirmed.")
    got = parse(markup, TEXT)
    assert [TEXT[m.start:m.end] for m in got] == ["fever", "Serology", "HIV", "negative", "lupus nephritis", "LN"]
    assert [(m.label, m.negated, m.uncertain) for m in got][2] == ("PATHOGEN", True, False)
    assert got[4].note == "rule 2" and got[5].uncertain
    spans = [(m.start, m.end, m.label, m.negated, m.uncertain) for m in got]
    assert render(TEXT, spans).replace("|#rule 2", "") == markup.replace("|#rule 2", "")


def test_a_trailing_newline_added_by_an_editor_is_accepted() -> None:
    assert parse("No [[fever|SIGN_SYMPTOM]].\n", "No fever.")[0].start == 3


@pytest.mark.parametrize("markup, message", [
    ("No fever.\nSerology for [[HIV|VIRUS]] was negative; lupus nephritis (LN) confirmed.", "x.txt:2: unknown label 'VIRUS'"),
    ("No [[fever|SIGN_SYMPTOM|maybe]].\n" + TEXT.split("\n")[1], "x.txt:1: unknown flag 'maybe'"),
    ("No fever.\nSerology for HIV was negative; lupus nephritis (LN) confirmd.", "x.txt:2: the text differs from the source"),
    ("No [[fever |SIGN_SYMPTOM]].\n" + TEXT.split("\n")[1], "starts or ends with white space"),
    ("No [[fever|SIGN_SYMPTOM].\n" + TEXT.split("\n")[1], "x.txt:1: malformed markup"),
])
def test_bad_markup_is_refused_naming_the_file_and_line(markup: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(markup, TEXT, "x.txt")


def test_a_bad_line_of_the_codiesp_texts_is_named(tmp_path) -> None:
    from imner.corpora.imd_cases import read_codiesp_records
    from imner.errors import InputError

    src = tmp_path / "codiesp_en_cases.jsonl"
    src.write_text('{"codiesp_id": "a", "text": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2: not a JSON record"):
        read_codiesp_records(source=src)
    src.write_text('{"codiesp_id": "a", "text": "x"}\n{"codiesp_id": "b", "text": "y"}\n', encoding="utf-8")
    assert {k: r["text"] for k, r in read_codiesp_records({"a"}, source=src).items()} == {"a": "x"}
    with pytest.raises(InputError, match="set IMNER_DATA"):
        read_codiesp_records(source=tmp_path / "missing.jsonl")


def test_the_agreement_samples_are_disjoint_training_documents() -> None:
    """RECIPE.md steps 6, 9, 10 and 11: four samples of 30 training documents each, none drawn twice."""
    from imner_dev.annotation.codiesp import agreement_sample, read_selection

    split = {r["doc_id"]: r["split"] for r in read_selection()}
    samples = [agreement_sample(n) for n in (1, 2, 3, 4)]
    assert [len(s) for s in samples] == [30, 30, 30, 30]
    assert len(set().union(*samples)) == 120 and all(split[d] == "train" for s in samples for d in s)
    with pytest.raises(ValueError, match="only 1 to 4"):
        agreement_sample(5)
