"""imd-cases machinery: projection rules, disease pre-labels, pathogen layer, decisions, split, the built corpus."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from imner_dev.annotation import disease_class as dc
from imner_dev.annotation.build import build, format_ann_text
from imner_dev.annotation.pathogen_layer import add_pathogens
from imner_dev.annotation.pathogens import Entry, PathogenMatcher
from imner_dev.annotation.projection import assertion_attrs, project_document
from imner_dev.annotation.split import concerns, make_split
from imner.errors import InputError, OffsetMismatchError
from imner.io.brat import read_brat, parse_ann
from imner.schema import LABEL_NAMES

FOCUS_LABELS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")
from imner.types import Document, Span

FIX = Path(__file__).parent / "fixtures" / "annotation"


@pytest.fixture(scope="module")
def case1() -> Document:
    return next(read_brat(FIX / "case1.ann"))


def _by_id(doc: Document) -> dict[str, Span]:
    return {s.attrs["source_id"]: s for s in doc.spans}


def _matcher() -> PathogenMatcher:
    return PathogenMatcher([Entry("MRSA", "NCBITaxon:1280", "bacteria", "abbreviation", False),
                            Entry("HIV", "NCBITaxon:12721", "virus", "abbreviation", True),
                            Entry("Klebsiella", "NCBITaxon:570", "bacteria", "taxon-module", False),
                            Entry("Staphylococcus aureus", "NCBITaxon:1280", "bacteria", "taxon-module", False)])


# ---------------------------------------------------------------- projection

def test_projection_types_discontinuous_overlap_polarity(case1: Document) -> None:
    out, log = project_document(case1, {"T4": "IMMUNE_DISEASE", "T14": "INFECTIOUS_DISEASE"})
    spans = _by_id(out)
    assert "T1" not in spans and "T2" not in spans and "T15" not in spans  # Age, Sex, Detailed_description dropped
    # equal length: the disease class beats SIGN_SYMPTOM
    assert spans["T4"].label == "IMMUNE_DISEASE" and "T5" not in spans
    # longer wins
    assert spans["T7"].label == "SIGN_SYMPTOM" and "T6" not in spans
    # discontinuous, only the same class inside -> hull (and the inner CT then loses as the shorter)
    t10 = spans["T10"]
    assert out.text[t10.start:t10.end] == "Computed tomography (CT) scan" and t10.fragments is None
    assert "T11" not in spans
    # discontinuous with ANATOMY inside -> first fragment
    assert out.text[spans["T12"].start:spans["T12"].end] == "Blood"
    assert spans["T13"].label == "ANATOMY"
    # POLARITY (attributes on events) -> negated / uncertain
    assert dict(spans["T3"].attrs).get("negated") is True and "uncertain" not in spans["T3"].attrs
    assert spans["T4"].attrs.get("uncertain") is True and "negated" not in spans["T4"].attrs
    assert spans["T8"].attrs.get("uncertain") is True and "negated" not in spans["T8"].attrs
    assert spans["T9"].attrs.get("negated") is True and spans["T9"].attrs.get("uncertain") is True
    assert "negated" not in spans["T14"].attrs and "uncertain" not in spans["T14"].attrs  # POS
    assert spans["T3"].attrs["source_type"] == "Sign_symptom"
    kinds = Counter(r.kind for r in log)
    assert kinds == {"discontinuous-hull": 1, "discontinuous-first": 1, "overlap-dropped": 3}
    assert {r.source_id for r in log if r.kind == "overlap-dropped"} == {"T5", "T6", "T11"}
    # flat
    ss = sorted(out.spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(ss, ss[1:]))


def test_disease_without_label_is_other_and_unknown_polarity_fails(case1: Document) -> None:
    out, _ = project_document(case1)
    assert _by_id(out)["T4"].label == "OTHER_DISEASE"
    assert assertion_attrs({"POLARITY": "MAYBE_NEG"}) == {"negated": True, "uncertain": True}
    with pytest.raises(InputError, match="POLARITY"):
        assertion_attrs({"POLARITY": "PERHAPS"})


# ---------------------------------------------------------------- disease classes (rules needing no data)

@pytest.mark.parametrize("mention,label,rule", [
    ("viral myocarditis", "INFECTIOUS_DISEASE", "rule 1"),
    ("septic arthritis", "INFECTIOUS_DISEASE", "rule 1"),
    ("reactive arthritis", "IMMUNE_DISEASE", "rule 1"),
    ("autoimmune hepatitis", "IMMUNE_DISEASE", "rule 1"),
    ("post-streptococcal glomerulonephritis", "IMMUNE_DISEASE", "rule 3"),
    ("EBV-positive lymphoma", "OTHER_DISEASE", "rule 7"),
    ("hepatocellular carcinoma", "OTHER_DISEASE", "rule 7"),
])
def test_classify_rules(mention: str, label: str, rule: str) -> None:
    p = dc.classify(mention)
    assert (p.label, p.confidence) == (label, "high") and p.evidence.startswith(rule)


@pytest.mark.data  # the disease classifier reads the Disease Ontology
def test_classify_pathogen_in_mention_and_negated_cue() -> None:
    m = _matcher()
    assert dc.classify("Klebsiella abscess", find_pathogens=m.triples).evidence.startswith("rule 1: pathogen")
    assert not dc.classify("non-infectious granuloma").evidence.startswith("rule 1")


def test_find_abbreviations() -> None:
    ab = dc.find_abbreviations("She had hepatocellular carcinoma (HCC) and chronic heart failure (CHF).")
    assert ab == {"HCC": "hepatocellular carcinoma", "CHF": "chronic heart failure"}
    p = dc.classify("HCC", abbreviations=ab)
    assert p.label == "OTHER_DISEASE" and "abbreviation HCC" in p.evidence and p.confidence == "medium"


# ---------------------------------------------------------------- pathogens

def test_matcher_longest_whole_words_and_gram_pattern() -> None:
    text = "Cultures grew Staphylococcus  aureus (MRSA); gram-negative rods; HIVAN; Klebsiellas."
    found = [(x.text, x.source) for x in _matcher().find(text)]
    assert found == [("Staphylococcus  aureus", "taxon-module"), ("MRSA", "abbreviation"),
                     ("gram-negative rods", "pattern")]


def _doc(text: str, *spans: tuple[str, str, str]) -> Document:
    out = []
    for i, (mention, label, src) in enumerate(spans, start=1):
        a = text.index(mention)
        out.append(Span(a, a + len(mention), label, attrs={"source_type": src, "source_id": f"T{i}"}))
    return Document("d", text, tuple(out))


def test_pathogen_layer_cases() -> None:
    text = ("MRSA bacteremia and HCV RNA. Sputum grew Klebsiella. History of HIV. HIV RNA was detectable. "
            "Klebsiella here.")
    doc = _doc(text, ("MRSA bacteremia", "INFECTIOUS_DISEASE", "Disease_disorder"),
               ("HCV RNA", "DIAGNOSTIC_PROCEDURE", "Diagnostic_procedure"),
               ("Klebsiella", "LAB_VALUE", "Lab_value"))
    m = PathogenMatcher([*_matcher().entries.values(), Entry("HCV", "NCBITaxon:11103", "virus", "abbreviation", True)])
    out, rows = add_pathogens(doc, m.find(text), is_disease_word=lambda s: s == "bacteremia", base_max_id=3)
    got = {(text[s.start:s.end], s.start): s.label for s in out.spans}
    assert got[("MRSA", 0)] == "PATHOGEN" and got[("bacteremia", 5)] == "INFECTIOUS_DISEASE"   # split
    assert got[("HCV RNA", 20)] == "DIAGNOSTIC_PROCEDURE"                                        # recorded only
    assert got[("Klebsiella", text.index("Klebsiella"))] == "PATHOGEN"                           # relabelled
    assert got[("HIV", text.index("HIV"))] == "INFECTIOUS_DISEASE"                               # rule 6, disease
    assert got[("HIV", text.index("HIV RNA"))] == "PATHOGEN"                                     # organism context
    assert got[("Klebsiella", text.rindex("Klebsiella"))] == "PATHOGEN"                          # added
    actions = Counter(r.action for r in rows)
    assert actions == {"split": 1, "recorded": 1, "relabelled": 1, "added-as-disease": 1, "added": 2}
    new_ids = sorted(s.attrs["source_id"] for s in out.spans if s.attrs["source_id"] not in ("T1", "T2", "T3"))
    assert new_ids == ["T4", "T5", "T6", "T7"]


# ---------------------------------------------------------------- build + decisions (fixture, no data needed)

def _write(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_build_on_fixture(case1: Document, tmp_path: Path) -> None:
    res = build(decisions_dir=tmp_path, source={case1.id: case1}, matcher=_matcher())
    doc = res.docs[0]
    spans = _by_id(doc)
    assert spans["T4"].label == "IMMUNE_DISEASE"          # 'lupus' (rule 1)
    assert spans["T14"].label == "PATHOGEN"               # "cultures grew MRSA": the organism
    assert len(res.disease_rows) == 2 and {r.tid for r in res.disease_rows} == {"T4", "T14"}
    ann = format_ann_text(doc)
    reread = parse_ann(ann, doc.text, doc_id=doc.id)
    assert {s.label for s in reread.spans} <= set(LABEL_NAMES)
    assert "A1\tnegated T3" in ann and "uncertain T4" in ann and "AnnotatorNotes T4\tMACCROBAT Disease_disorder" in ann


def test_decisions_apply(case1: Document, tmp_path: Path) -> None:
    _write(tmp_path / "diseases.tsv", ["doc_id\ttid\tlabel\treason\tmention",
                                       "case1\tT4\tOTHER_DISEASE\ttest\tlupus nephritis"])
    _write(tmp_path / "pathogens.tsv", ["doc_id\tstart\tend\taction\tlabel\tmention\treason",
                                        "case1\t204\t208\tremove\tPATHOGEN\tMRSA\tx",
                                        "case1\t204\t208\tadd\tINFECTIOUS_DISEASE\tMRSA\ty"])
    res = build(decisions_dir=tmp_path, source={case1.id: case1}, matcher=_matcher())
    spans = _by_id(res.docs[0])
    assert spans["T4"].label == "OTHER_DISEASE"
    assert [s.label for s in res.docs[0].spans if s.start == 204] == ["INFECTIOUS_DISEASE"]
    assert res.decisions_applied == {"disease": 1, "span-remove": 1, "span-add": 1}


@pytest.mark.parametrize("name,rows,error,match", [
    ("diseases.tsv", ["doc_id\ttid\tlabel\treason", "nope\tT4\tOTHER_DISEASE\tx"], InputError, "unknown document"),
    ("diseases.tsv", ["doc_id\ttid\tlabel\treason", "case1\tT3\tOTHER_DISEASE\tx"], InputError, "not a Disease"),
    ("diseases.tsv", ["doc_id\ttid\tlabel\treason", "case1\tT99\tOTHER_DISEASE\tx"], InputError, "no annotation"),
    ("diseases.tsv", ["doc_id\ttid\tlabel\treason", "case1\tT4\tPATHOGEN\tx"], InputError, "not a disease class"),
    ("diseases.tsv", ["doc_id\ttid\tlabel\treason\tmention", "case1\tT4\tOTHER_DISEASE\tx\tlupus"],
     OffsetMismatchError, "lupus"),
    ("diseases.tsv", ["doc_id\ttid\tlabel", "case1\tT4\tOTHER_DISEASE"], InputError, "header"),
    ("pathogens.tsv", ["doc_id\tstart\tend\taction\tlabel\tmention\treason", "case1\t204\t208\tadd\tPATHOGEN\tMRSx\tr"],
     OffsetMismatchError, "MRSx"),
    ("pathogens.tsv", ["doc_id\tstart\tend\taction\tlabel\tmention\treason", "zz\t204\t208\tadd\tPATHOGEN\tMRSA\tr"],
     InputError, "unknown document"),
    ("pathogens.tsv", ["doc_id\tstart\tend\taction\tlabel\tmention\treason", "case1\t204\t208\tmove\tPATHOGEN\tMRSA\tr"],
     InputError, "action"),
    ("pathogens.tsv", ["doc_id\tstart\tend\taction\tlabel\tmention\treason", "case1\t25\t30\tadd\tPATHOGEN\tfever\tr"],
     InputError, "overlaps SIGN_SYMPTOM"),
    ("pathogens.tsv", ["doc_id\tstart\tend\taction\tlabel\tmention\treason", "case1\t25\t30\tremove\tPATHOGEN\tfever\tr"],
     InputError, "no PATHOGEN span"),
])
def test_decision_errors_name_file_and_line(case1: Document, tmp_path: Path, name: str, rows: list[str],
                                            error: type, match: str) -> None:
    _write(tmp_path / name, ["# comment line", *rows])
    with pytest.raises(error, match=match) as exc:
        build(decisions_dir=tmp_path, source={case1.id: case1}, matcher=_matcher())
    assert name in str(exc.value) and ("line 3" in str(exc.value) or "line 2" in str(exc.value))


# ---------------------------------------------------------------- split

def test_split_deterministic_and_stratified() -> None:
    concern = {f"{i:03d}": i % 5 == 0 for i in range(200)}  # 40 concern
    a, b = make_split(concern), make_split(dict(reversed(list(concern.items()))))
    assert a == b
    assert Counter(a.values()) == {"train": 140, "dev": 20, "test": 40}
    in_test = sum(1 for d, v in concern.items() if v and a[d] == "test")
    assert in_test >= 0.4 * 40
    assert make_split(concern, seed=1) != a


def test_concerns_counts_only_asserted() -> None:
    spans = (Span(0, 1, "IMMUNE_DISEASE"), Span(2, 3, "PATHOGEN", attrs={"negated": True}),
             Span(4, 5, "INFECTIOUS_DISEASE", attrs={"uncertain": True}))
    rows = concerns([Document("a", "x x x x x x", spans), Document("b", "x x", (Span(0, 1, "PATHOGEN"),
                                                                                Span(2, 3, "PATHOGEN")))])
    assert [(r["doc_id"], r["asserted_total"], r["concerns"]) for r in rows] == [("a", 1, "no"), ("b", 2, "yes")]


# ---------------------------------------------------------------- the committed corpus (needs the data)

def _need_data() -> None:
    from imner.config import data_dir

    if not (data_dir() / "maccrobat" / "MACCROBAT2020").is_dir():
        pytest.skip("MACCROBAT2020 not under IMNER_DATA")


@pytest.mark.data
def test_imd_cases_loads_all_425_with_twelve_labels() -> None:
    _need_data()
    from imner import corpora

    docs = {s: corpora.load("imd-cases", s) for s in ("train", "dev", "test")}
    assert {s: len(d) for s, d in docs.items()} == {"train": 299, "dev": 41, "test": 85}
    # the parts: the MACCROBAT split is unchanged (earlier numbers stay comparable); CodiEsp has its own dev/test
    mac = {s: len(corpora.load("imd-cases-maccrobat", s)) for s in ("train", "dev", "test")}
    cod = {s: len(corpora.load("imd-cases-codiesp", s)) for s in ("train", "dev", "test")}
    assert mac == {"train": 140, "dev": 20, "test": 40} and cod == {"train": 159, "dev": 21, "test": 45}
    labels = {sp.label for ds in docs.values() for d in ds for sp in d.spans}
    assert labels <= set(LABEL_NAMES) and {"PATHOGEN", "IMMUNE_DISEASE", "INFECTIOUS_DISEASE"} <= labels
    ids = [d.id for ds in docs.values() for d in ds]
    assert len(set(ids)) == len(ids) == 425
    counts = {k: sum(sp.label == k for ds in docs.values() for d in ds for sp in d.spans) for k in FOCUS_LABELS}
    assert min(counts.values()) >= 500, counts
    for ds in docs.values():
        for d in ds:
            ss = sorted(d.spans, key=lambda s: s.start)
            assert all(a.end <= b.start for a, b in zip(ss, ss[1:])), d.id


@pytest.mark.data
def test_review_file_has_one_row_per_disease() -> None:
    """(That ann/ equals a fresh build and split.tsv its recipe is checked with every other generated file by
    ``imner build --check``: tests/test_build.py.)"""
    _need_data()
    from imner.corpora.imd_cases import corpus_dir

    review = (corpus_dir() / "review" / "diseases.tsv").read_text(encoding="utf-8").splitlines()
    assert len([ln for ln in review if ln and not ln.startswith("#")]) == 1 + 1362   # one row per Disease_disorder


# ---------------------------------------------------------------- silver corpora

def test_source_ids() -> None:
    from imner_dev.annotation.silver import source_ids

    assert source_ids("D001943|D010051") == ["MESH:D001943", "MESH:D010051"]
    assert source_ids(" D012878") == ["MESH:D012878"]
    assert source_ids("OMIM:610102") == ["OMIM:610102"]
    assert source_ids("C538007") == ["MESH:C538007"]
    assert source_ids("-1") == []


@pytest.mark.data
def test_disease_silver_classes_and_flags() -> None:
    _need_data()
    from imner import corpora
    from imner_dev.annotation.silver import UNKNOWN_DISEASE, classify_ids

    assert classify_ids(["MESH:D008180"])[0] == "IMMUNE_DISEASE"        # systemic lupus erythematosus
    assert classify_ids(["MESH:D011014"])[0] == "INFECTIOUS_DISEASE"    # pneumonia (guideline term list)
    assert classify_ids(["MESH:D001943"])[0] == "OTHER_DISEASE"         # breast neoplasms (rule 7)
    assert classify_ids(["MESH:D999999"])[:2] == (None, "unmapped")
    assert classify_ids([])[:2] == (None, "unmapped")
    docs = corpora.load("ncbi-disease-silver", "dev")
    assert docs and all(d.meta["annotates"] == ["IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE"] for d in docs)
    spans = [s for d in docs for s in d.spans]
    flagged = [s for s in spans if s.label == UNKNOWN_DISEASE]
    assert flagged and all(s.attrs["silver_flag"] in ("unmapped", "ambiguous") for s in flagged)
    assert all("silver_flag" not in s.attrs for s in spans if s.label != UNKNOWN_DISEASE)
    assert {s.label for s in spans} <= {"IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE", UNKNOWN_DISEASE}


@pytest.mark.data
def test_pathogen_silver_excludes_humans_and_model_organisms() -> None:
    _need_data()
    from imner import corpora
    from imner_dev.annotation.pathogens import OrganismRule

    rule = OrganismRule()
    assert rule.verdict("patients", "NCBITaxon:9606")[0] == "negative"
    assert rule.verdict("mice", "NCBITaxon:10090")[0] == "negative"
    assert rule.verdict("BALB / c mice")[0] == "negative"
    assert rule.verdict("Staphylococcus aureus", "NCBITaxon:1280") == ("pathogen", "bacterium")
    assert rule.verdict("Arabidopsis thaliana", "NCBITaxon:3702")[0] == "negative"
    docs = corpora.load("pathogen-silver", "dev")
    assert {d.meta["silver_source"] for d in docs} == {"s800", "linnaeus", "biored", "bionlp11id"}
    texts = Counter(s.text_in(d.text).lower() for d in docs for s in d.spans if s.label == "PATHOGEN")
    assert texts and not {"patients", "human", "mice", "patient", "humans", "rats"} & set(texts)


@pytest.mark.data
def test_one_ontology_layer_for_prelabels_and_runtime() -> None:
    """The corpus builder's DO classes and pathogen kinds are the packaged lexicon's (issue 9 section 2)."""
    from imner.lexicon import load_lexicon
    from imner_dev.annotation.ontology import disease_names
    from imner_dev.annotation.pathogens import OrganismRule

    dn, lex = disease_names(), load_lexicon()
    differ = [d for d in sorted(dn.label) if d in lex and dn.disease_class(d).label != lex.concept(d).label]
    assert not differ, differ[:5]
    # guideline rule 2 as the classifier implements it: DOID:2914 minus its DOID:75 branch; DOID:0050117
    assert dn.disease_class("DOID:4977").label == "OTHER_DISEASE"  # lymphedema (lymphatic system disease)
    assert dn.disease_class("DOID:9074").label == "IMMUNE_DISEASE"  # systemic lupus erythematosus
    assert dn.disease_class("DOID:399").label == "INFECTIOUS_DISEASE"  # tuberculosis
    label, conf, evidence = dc.do_class(dn, dn.lookup("lymphedema"))
    assert (label, conf) == ("OTHER_DISEASE", "high") and "DOID:4977" in evidence
    rule = OrganismRule()
    kinds = {c.id: c.kind for c in lex.concepts() if c.label == "PATHOGEN" and c.id in rule.tx.name}
    assert kinds and all(rule.group_of(t) == k for t, k in kinds.items())
    assert rule.verdict("Orthopoxvirus vaccinia", "NCBITaxon:10245") == ("pathogen", "virus")
    assert rule.verdict("Sarcoptes scabiei", "NCBITaxon:52283") == ("pathogen", "parasite")


def test_prelabels_round_trip_and_validation(case1: Document, tmp_path: Path) -> None:
    from imner_dev.annotation.build import compute_prelabels, read_prelabels, write_prelabels

    source = {case1.id: case1}
    pre = compute_prelabels(source, _matcher())
    path = tmp_path / "prelabels.tsv"
    write_prelabels(pre, source, path)
    assert read_prelabels(path, source) == pre
    assert build(decisions_dir=tmp_path, source=source, matcher=_matcher(), prelabels=pre).docs[0].spans
    path.write_text(path.read_text(encoding="utf-8").replace("lupus nephritis", "lupus"), encoding="utf-8")
    with pytest.raises(InputError, match="does not match") as exc:
        read_prelabels(path, source)
    assert "prelabels.tsv" in str(exc.value) and "line" in str(exc.value)


def test_review_files_keep_reviewer_columns_and_collect(case1: Document, tmp_path: Path) -> None:
    import csv

    from imner_dev.annotation.build import collect_review, write_review

    source = {case1.id: case1}
    res = build(decisions_dir=tmp_path / "decisions", source=source, matcher=_matcher())
    review = tmp_path / "review"
    write_review(res, review, source)
    path = review / "diseases.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(ln for ln in lines if not ln.startswith("#")).split("\t")
    assert header[-2:] == ["decision", "reason"] and len([ln for ln in lines if ln.startswith("case1")]) == 2
    edited = []
    for ln in lines:
        cells = ln.split("\t")
        if cells[:2] == ["case1", "T4"]:
            cells[-2:] = ["OTHER_DISEASE", "nephritis of unstated mechanism"]
        elif cells[:2] == ["case1", "T14"]:
            cells[-2:] = ["ok", ""]
        edited.append("\t".join(cells))
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    write_review(res, review, source)                       # a rebuild keeps what reviewers wrote
    assert "nephritis of unstated mechanism" in path.read_text(encoding="utf-8")
    assert collect_review(review, tmp_path / "decisions") == 2
    with open(tmp_path / "decisions" / "diseases.tsv", encoding="utf-8") as fh:
        rows = {r["tid"]: r["label"] for r in csv.DictReader(fh, delimiter="\t")}
    assert rows == {"T4": "OTHER_DISEASE", "T14": "INFECTIOUS_DISEASE"}   # ok = the pre-label
    res2 = build(decisions_dir=tmp_path / "decisions", source=source, matcher=_matcher())
    assert _by_id(res2.docs[0])["T4"].label == "OTHER_DISEASE"
    assert _by_id(res2.docs[0])["T14"].label == "INFECTIOUS_DISEASE"     # decided: no longer relabelled PATHOGEN
