"""Named corpora: registry, loaders' special cases on tiny fixtures, and (``data``) the real corpora's counts
checked against the numbers in each ``/work/shared/data/<corpus>/PROVENANCE.md``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import imner.corpora as corpora
from imner.config import data_dir
from imner.corpora import Corpus, Loaded, UnknownCorpusError
from imner.errors import ConfigError, DataNotFoundError, FormatError, OffsetMismatchError
from imner.types import Document, Span

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"


@pytest.fixture
def fake_corpora():
    """Register throw-away corpora; removed afterwards."""
    names: list[str] = []

    def add(name: str, docs_by_split: dict[str, list[Document]], *, notes=(), path: str | Path | None = None):
        def loader(root: Path, split: str) -> Loaded:
            return Loaded(list(docs_by_split[split]), tuple(notes))

        c = Corpus(name=name, description="test", licence="none", path=path or FIXTURES, splits=tuple(docs_by_split),
                   labels=("X",), annotates={"PATHOGEN"}, format="test", loader=loader)
        corpora.register(c)
        names.append(name)
        return c

    yield add
    for n in names:
        corpora._REGISTRY.pop(n, None)
        corpora.clear_cache(n)


def _doc(i: str, pmid: str | None = None) -> Document:
    return Document(i, "Staph aureus", (Span(0, 5, "X"),), {"pmid": pmid} if pmid else {})


# ---------------------------------------------------------------- registry (no data needed)

def test_unknown_corpus_lists_known_names():
    with pytest.raises(UnknownCorpusError, match="known corpora: .*maccrobat.*ncbi-disease"):
        corpora.get("ncbi")


def test_load_sets_meta_splits_and_notes(fake_corpora):
    fake_corpora("fake-a", {"train": [_doc("1"), _doc("2")], "dev": [_doc("3")]}, notes=["dropped one"])
    docs = corpora.load("fake-a")
    assert [d.id for d in docs] == ["1", "2", "3"]
    assert [(d.meta["corpus"], d.meta["split"]) for d in docs] == [("fake-a", "train")] * 2 + [("fake-a", "dev")]
    assert [d.id for d in corpora.load("fake-a", "devel")] == ["3"]  # alias of dev
    assert corpora.load_notes("fake-a") == ["train: dropped one", "dev: dropped one"]
    with pytest.raises(UnknownCorpusError, match="no split 'test'; splits: train, dev"):
        corpora.load("fake-a", "test")
    assert "fake-a" in corpora.CORPORA and corpora.CORPORA["fake-a"].name == "fake-a"


def test_register_rejects_duplicates_and_non_schema_classes(fake_corpora):
    c = fake_corpora("fake-b", {"train": []})
    with pytest.raises(ConfigError, match="already registered"):
        corpora.register(c)
    with pytest.raises(ConfigError, match="not schema classes"):
        Corpus(name="bad", description="", licence="", path="x", splits=("train",), labels=("X",),
               annotates={"Species"}, format="", loader=lambda r, s: [])


def test_missing_data_says_set_imner_data(fake_corpora, monkeypatch, tmp_path):
    monkeypatch.setenv("IMNER_DATA", str(tmp_path))
    fake_corpora("fake-missing", {"train": []}, path="no_such_corpus")
    with pytest.raises(DataNotFoundError, match="IMNER_DATA"):
        corpora.load("fake-missing")


def test_plugins_import_lazily_on_first_access():
    code = ("import sys, imner.corpora as c; a = 'imner.corpora.maccrobat' in sys.modules; "
            "c.get('maccrobat'); print(a, 'imner.corpora.maccrobat' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_plugin_module_registers_its_corpus(monkeypatch, tmp_path):
    (tmp_path / "fake_corpus_plugin.py").write_text(
        "from imner.corpora import Corpus, register\n"
        "register(Corpus(name='fake-plugin', description='', licence='', path='.', splits=('test',),\n"
        "                labels=('X',), annotates=set(), format='', loader=lambda root, split: []))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(corpora, "_PLUGIN_MODULES", [*corpora._PLUGIN_MODULES, "fake_corpus_plugin"])
    try:
        assert corpora.get("fake-plugin").splits == ("test",)
    finally:
        corpora._REGISTRY.pop("fake-plugin", None)
        corpora._imported.discard("fake_corpus_plugin")
        sys.modules.pop("fake_corpus_plugin", None)


def test_exclude_overlap_drops_and_reports(fake_corpora):
    fake_corpora("fake-eval", {"test": [_doc("e1", "11"), _doc("e2", "12")]})
    train = [_doc("t1", "11"), _doc("t2", "13"), _doc("t3")]
    assert corpora.pmids("fake-eval", "test") == {"11", "12"}
    result = corpora.exclude_overlap(train, against=[("fake-eval", "test")])
    assert [d.id for d in result.docs] == ["t2", "t3"]
    assert result.dropped == [("t1", "11", "fake-eval/test")]
    assert result.summary() == "dropped 1 of 3 documents (1 in fake-eval/test)"


# ---------------------------------------------------------------- loaders' special cases (fixtures)

def test_pubtator_known_mismatch_and_identical_duplicate_are_reported():
    from imner.corpora._util import read_pubtator_records

    path = FIXTURES / "pubtator_quirks.txt"
    known = {("100", 31, 46): ("trailing space", lambda m, f: m.rstrip() == f)}
    docs, notes = read_pubtator_records(path, known_mismatches=known, drop_identical_duplicates=True)
    assert [d.id for d in docs] == ["100", "200"]
    assert docs[0].meta["pmid"] == "100"
    assert docs[0].spans[1].text_in(docs[0].text) == "lupus nephritis"
    assert any("line 4: PMID 100 [31, 46)" in n and "trailing space" in n for n in notes)
    assert any("PMID 100 appears twice" in n for n in notes)
    assert any("3 records, 5 mention rows -> 2 documents, 3 mentions" in n for n in notes)
    with pytest.raises(OffsetMismatchError, match="line 4"):  # not declared as known
        read_pubtator_records(path, drop_identical_duplicates=True)
    with pytest.raises(FormatError, match="PMID 100 appears twice"):  # duplicates not allowed
        read_pubtator_records(path, known_mismatches=known)
    with pytest.raises(FormatError, match="different content"):
        read_pubtator_records(FIXTURES / "pubtator_dup_differs.txt", drop_identical_duplicates=True)


def test_linnaeus_loader_on_fixture(tmp_path):
    from imner.corpora.linnaeus import load_split

    root = FIXTURES / "linnaeus"
    (train,) = load_split(root, "train").docs
    assert [(s.text_in(train.text), s.attrs["id"], s.attrs["taxonomy_name"]) for s in train.spans] == [
        ("Staphylococcus aureus", "species:ncbi:1280", True), ("patients", "species:ncbi:9606", False)]
    assert [s.attrs["code"] for s in load_split(root, "dev").docs[0].spans] == ["", "4"]
    assert load_split(root, "test").docs == []

    import shutil
    bad = tmp_path / "linnaeus"
    shutil.copytree(root, bad)
    tags = bad / "original" / "tags.tsv"
    tags.write_text(tags.read_text().replace("pmcA2\t21\t25", "pmcA2\t20\t24"))
    with pytest.raises(OffsetMismatchError, match=r"tags.tsv.*line 5.*'mice'"):
        load_split(bad, "dev")


def test_format_table_aligns_numbers_right():
    from imner.commands.corpus import format_table

    assert format_table(["split", "n"], [["train", 5], ["dev", 10]]).splitlines() == [
        "split   n", "-----  --", "train   5", "dev    10"]


def test_corpus_command_is_registered():
    from imner.cli import COMMAND_MODULES

    assert "imner.commands.corpus" in COMMAND_MODULES


# ---------------------------------------------------------------- the shared corpora (data)

needs_data = pytest.mark.skipif(not (data_dir() / "ncbi_disease").is_dir(),
                                reason=f"shared corpora not found under {data_dir()} (set IMNER_DATA)")

# Expected numbers, per corpus and split: (documents, mentions, {label: mentions} or None).
# Each comes from the corpus's PROVENANCE.md table cited beside it, unless marked "computed here".
EXPECTED: dict[str, dict[str, tuple[int, int, dict[str, int] | None]]] = {
    # maccrobat/PROVENANCE.md "Files" (156/20/24 docs from suggested_split.tsv) and "Entity (T) counts per type"
    # (25,189 spans in all; per-split mention counts computed here, they sum to 25,189: checked in the test).
    "maccrobat": {"train": (156, 20170, None), "dev": (20, 2171, None), "test": (24, 2848, None)},
    # ncbi_disease/PROVENANCE.md "Counts": train 592 unique docs / 5,145 mention rows, devel 100/787, test 100/960.
    # Train keeps 592 docs; dropping the duplicated record of PMID 8528200 (10 SpecificDisease + 1 Modifier)
    # leaves 5,145 - 11 = 5,134 mentions: SpecificDisease 2972-10, Modifier 1289-1.
    "ncbi-disease": {
        "train": (592, 5134, {"SpecificDisease": 2962, "Modifier": 1288, "DiseaseClass": 769, "CompositeMention": 115}),
        "dev": (100, 787, {"SpecificDisease": 412, "Modifier": 214, "DiseaseClass": 126, "CompositeMention": 35}),
        "test": (100, 960, {"SpecificDisease": 555, "Modifier": 264, "DiseaseClass": 121, "CompositeMention": 20}),
    },
    # bc5cdr/PROVENANCE.md "Counts" PubTator table (test not stored).
    "bc5cdr": {
        "train": (500, 9385, {"Chemical": 5203, "Disease": 4182}),
        "dev": (500, 9591, {"Chemical": 5347, "Disease": 4244}),
    },
    # biored/PROVENANCE.md "Documents removed here": 346/84/87 docs. Its counts table is from before the removal,
    # so the mention counts are computed here.
    "biored": {
        "train": (346, 11413, {"GeneOrGeneProduct": 4213, "DiseaseOrPhenotypicFeature": 3103, "ChemicalEntity": 1913,
                               "OrganismTaxon": 1209, "SequenceVariant": 875, "CellLine": 100}),
        "dev": (84, 2907, None),
        "test": (87, 3103, None),
    },
    # s800/PROVENANCE.md "Counts" table: train 560/2557, devel 80/384, test 160/767.
    "s800": {"train": (560, 2557, {"Species": 2557}), "dev": (80, 384, None), "test": (160, 767, None)},
    # linnaeus/PROVENANCE.md: split 50/17/33 docs, 4,259 tags.tsv rows; per-split mentions computed here
    # (train equals the IOB table's 2,119; dev/test differ from the IOB conversion's 711/1,433 by 3 and 1).
    "linnaeus": {"train": (50, 2119, None), "dev": (17, 708, None), "test": (33, 1432, None)},
    # bionlp11id/PROVENANCE.md "Counts" table (documents = IOB sentences).
    "bionlp11id": {
        "train": (2496, 5674, {"Protein": 3197, "Organism": 1873, "Chemical": 594, "Regulon-operon": 10}),
        "dev": (721, 1598, {"Protein": 1055, "Organism": 385, "Chemical": 131, "Regulon-operon": 27}),
        "test": (1961, 3810, {"Protein": 2299, "Organism": 1213, "Chemical": 248, "Regulon-operon": 50}),
    },
}
# whole-corpus totals from PROVENANCE.md
TOTALS = {"maccrobat": 25189, "s800": 3708, "linnaeus": 4259}


@needs_data
@pytest.mark.data
@pytest.mark.parametrize("name", list(EXPECTED))
def test_counts_match_provenance(name):
    corpus = corpora.get(name)
    assert corpus.splits == tuple(EXPECTED[name])
    for split, (n_docs, n_mentions, per_label) in EXPECTED[name].items():
        docs = corpora.load(name, split)
        assert len(docs) == n_docs, (name, split)
        assert sum(len(d.spans) for d in docs) == n_mentions, (name, split)
        assert all(d.meta["corpus"] == name and d.meta["split"] == split for d in docs)
        assert len({d.id for d in docs}) == len(docs)
        labels: dict[str, int] = {}
        for d in docs:
            for s in d.spans:
                labels[s.label] = labels.get(s.label, 0) + 1
        assert set(labels) <= set(corpus.labels)
        if per_label is not None:
            assert labels == per_label, (name, split)
    if name in TOTALS:
        assert sum(len(d.spans) for d in corpora.load(name)) == TOTALS[name]


@needs_data
@pytest.mark.data
def test_maccrobat_types_match_provenance():
    # maccrobat/PROVENANCE.md: 41 types, top ones Diagnostic_procedure 4598, Sign_symptom 3382, ...
    labels: dict[str, int] = {}
    for d in corpora.load("maccrobat"):
        for s in d.spans:
            labels[s.label] = labels.get(s.label, 0) + 1
    assert len(labels) == 41 and set(labels) == set(corpora.get("maccrobat").labels)
    assert (labels["Diagnostic_procedure"], labels["Sign_symptom"], labels["Disease_disorder"], labels["Mass"]) == (
        4598, 3382, 1362, 2)
    assert "NOT official" in corpora.get("maccrobat").description


@needs_data
@pytest.mark.data
def test_ncbi_quirks_are_reported_not_silent():
    notes = corpora.load_notes("ncbi-disease")
    assert any(n.startswith("train: ") and "PMID 8528200 appears twice" in n for n in notes)
    assert any("PMID 10923035 [711, 761)" in n for n in notes)
    assert corpora.load_notes("ncbi-disease", "test") == []
    (doc,) = [d for d in corpora.load("ncbi-disease", "train") if d.id == "10923035"]
    (span,) = [s for s in doc.spans if s.start == 711]
    assert span.text_in(doc.text) == 'generalized epilepsy and febrile seizures " plus "'


@needs_data
@pytest.mark.data
def test_biored_overlap_with_bc5cdr_dev_is_dropped():
    assert len(corpora.pmids("ncbi-disease", "test")) == 100
    result = corpora.exclude_overlap(corpora.load("biored", "train"), against=[("bc5cdr", "dev"),
                                                                             ("ncbi-disease", "test")])
    assert len(result.dropped) == 44 and len(result.docs) == 346 - 44
    assert not {d.meta["pmid"] for d in result.docs} & corpora.pmids("bc5cdr", "dev")


def _cli(capsys, *argv: str) -> str:
    from imner.commands import corpus as cmd

    parser = argparse.ArgumentParser(prog="imner")
    cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    assert args.func(args) == 0
    return capsys.readouterr().out


@needs_data
@pytest.mark.data
def test_cli_list_and_stats(capsys):
    out = _cli(capsys, "corpus", "list")
    for name in EXPECTED:
        assert name in out
    assert "train 592 / dev 100 / test 100" in out
    assert "train 500 / dev 500" in out

    st = json.loads(_cli(capsys, "corpus", "stats", "ncbi-disease", "--json"))
    assert st["splits"]["test"]["documents"] == 100 and st["splits"]["test"]["entities"] == 960
    # ncbi_disease/PROVENANCE.md IOB table: tokens 136086 / 23969 / 24497; our tokenizer's count is close to it
    assert [st["splits"][s]["source"]["iob"]["tokens"] for s in ("train", "dev", "test")] == [136086, 23969, 24497]
    assert st["splits"]["train"]["source"]["file"] == {"records": 593, "mention_rows": 5145}
    for s in ("train", "dev", "test"):
        ours, theirs = st["splits"][s]["tokens"], st["splits"][s]["source"]["iob"]["tokens"]
        assert 0.9 * theirs < ours < 1.1 * theirs
    assert st["total"]["entities"] == 5134 + 787 + 960

    table = _cli(capsys, "corpus", "stats", "ncbi-disease")
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert rows["SpecificDisease"] == ["2962", "412", "555", "3929"]
    assert rows["total"] == ["792", str(st["total"]["tokens"]), "6881"]
    assert "PMID 8528200 appears twice" in table
