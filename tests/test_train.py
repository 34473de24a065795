"""``imner train``: TOML config validation and the model directory it writes (corpora stubbed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

pytest.importorskip("pycrfsuite")

from imner import training  # noqa: E402
from imner.commands import train as train_cmd  # noqa: E402
from imner.errors import ConfigError  # noqa: E402
from imner.taggers import load_tagger  # noqa: E402
from imner.types import Document, Span  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "train"
CRF_DOCS = Path(__file__).parent / "fixtures" / "crf" / "tiny_docs.jsonl"


def tiny_corpus() -> dict[str, list[Document]]:
    docs = []
    for line in CRF_DOCS.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        docs.append(Document(rec["id"], rec["text"], [Span(s["start"], s["end"], s["label"]) for s in rec["spans"]]))
    return {"train": [d.with_meta(corpus="tiny", split="train") for d in docs[:4]],
            "dev": [d.with_meta(corpus="tiny", split="dev") for d in docs[4:]]}


@pytest.fixture
def stub_corpora(monkeypatch):
    calls = []
    data = tiny_corpus()

    def load(name, split):
        calls.append((name, split))
        if name != "tiny":
            raise ConfigError(f"unknown corpus {name!r}")
        return list(data[split])

    monkeypatch.setattr(training, "load_corpus", load)
    return calls


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="imner")
    train_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_registered_in_cli():
    from imner.cli import COMMAND_MODULES

    assert "imner.commands.train" in COMMAND_MODULES


def test_train_writes_model_directory(tmp_path, stub_corpora, capsys):
    pytest.importorskip("imner.evaluate")
    out = tmp_path / "m"
    assert run_cli(["train", "--config", str(FIXTURES / "tiny.toml"), "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "training crf.v1 on 4 documents" in captured.err and "dev: strict micro" in captured.err
    assert stub_corpora == [("tiny", "train"), ("tiny", "dev")]

    for name in ("config.json", "model.crfsuite", "train_config.toml", "data_manifest.json", "training.json",
                 "dev_metrics.json"):
        assert (out / name).is_file(), name
    assert not (out / "test_metrics.json").exists()
    assert (out / "train_config.toml").read_bytes() == (FIXTURES / "tiny.toml").read_bytes()

    manifest = json.loads((out / "data_manifest.json").read_text())
    assert manifest["label_map"] == {"DRUG": "MEDICATION"}
    assert manifest["train"]["documents"] == 4 and manifest["dev"]["documents"] == 2
    src = manifest["train"]["sources"][0]
    assert src["corpus"] == "tiny" and src["split"] == "train" and src["labels"] == {"DISEASE": 7, "MEDICATION": 5}
    assert len(manifest["train"]["doc_ids_sha256"]) == 64
    assert manifest["dev"]["overlap_with_train"] == 0

    training_info = json.loads((out / "training.json").read_text())
    assert training_info["params"] == {"max_iterations": 40, "c1": 0.05}
    assert training_info["tagger_stats"]["documents"] == 4

    metrics = json.loads((out / "dev_metrics.json").read_text())
    assert metrics["n_docs"] == 2 and metrics["documents"] == 2
    assert 0.0 <= metrics["strict"]["micro"]["f1"] <= 1.0

    tagger = load_tagger(out)
    assert tagger.labels == ("DISEASE", "MEDICATION") and tagger.max_iterations == 40 and tagger.c1 == 0.05


def test_output_from_config_is_relative_to_cwd_and_not_overwritten(tmp_path, stub_corpora, monkeypatch):
    pytest.importorskip("imner.evaluate")
    monkeypatch.chdir(tmp_path)
    cfg = training.load_train_config(FIXTURES / "tiny.toml")
    summary = training.train_from_config(cfg, progress=lambda m: None)
    assert Path(summary["output"]) == Path("model-out") and (tmp_path / "model-out" / "config.json").is_file()
    stub_corpora.clear()
    with pytest.raises(ConfigError, match="not empty.*--overwrite"):
        training.train_from_config(cfg, progress=lambda m: None)
    assert stub_corpora == []  # refused before loading data or training
    (tmp_path / "model-out" / "stale.txt").write_text("old")
    training.train_from_config(cfg, overwrite=True, progress=lambda m: None)
    assert not (tmp_path / "model-out" / "stale.txt").exists()


def test_failed_overwrite_keeps_the_earlier_model(tmp_path, stub_corpora, monkeypatch):
    pytest.importorskip("imner.evaluate")
    cfg = training.load_train_config(FIXTURES / "tiny.toml")
    out = tmp_path / "m"
    training.train_from_config(cfg, output=out, progress=lambda m: None)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation failed")

    with monkeypatch.context() as m, pytest.raises(RuntimeError, match="evaluation failed"):
        m.setattr(training, "evaluate_docs", broken)  # fails after the new model was saved
        training.train_from_config(cfg, output=out, overwrite=True, progress=lambda m: None)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    training.train_from_config(cfg, output=out, overwrite=True, progress=lambda m: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no .partial / .replaced left behind


def test_overwrite_refuses_a_directory_that_is_not_a_model(tmp_path, stub_corpora):
    (tmp_path / "notes.txt").write_text("keep me")
    cfg = training.load_train_config(FIXTURES / "tiny.toml")
    with pytest.raises(ConfigError, match="holds no model"):
        training.train_from_config(cfg, output=tmp_path, overwrite=True, progress=lambda m: None)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_keep_labels_and_limit(tmp_path, stub_corpora):
    cfg = training.load_train_config(FIXTURES / "tiny_keep.toml")
    assert cfg.output_dir is None
    with pytest.raises(ConfigError, match="no output directory"):
        training.train_from_config(cfg, progress=lambda m: None)
    messages: list[str] = []
    training.train_from_config(cfg, output=tmp_path / "m", progress=messages.append)
    manifest = json.loads((tmp_path / "m" / "data_manifest.json").read_text())
    train_src, dev_src = manifest["train"]["sources"]
    assert train_src["dropped_spans"] == {"DRUG": 5} and train_src["labels"] == {"DISEASE": 7}
    assert dev_src["limit"] == 1 and dev_src["documents"] == 1
    assert manifest["train"]["documents"] == 5
    assert any("spans of labels outside keep_labels removed" in m for m in messages)
    assert load_tagger(tmp_path / "m").labels == ("DISEASE",)


def test_relabel_maps_spans_and_annotates():
    from collections import Counter

    doc = Document("d", "lupus and rifampin", (Span(0, 5, "SpecificDisease"), Span(10, 18, "Chemical")),
                   {"annotates": ["SpecificDisease", "Chemical"]})
    dropped: Counter = Counter()
    (out,) = training.relabel([doc], {"SpecificDisease": "Disease"}, ["Disease"], dropped)
    assert [(s.start, s.label) for s in out.spans] == [(0, "Disease")]
    assert out.meta["annotates"] == ["Disease"]
    assert dropped == Counter({"Chemical": 1})
    assert doc.spans[0].label == "SpecificDisease"  # input untouched


@pytest.mark.parametrize("text, match", [
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {corpus = 'x'}\n[extra]\n", r"unknown key 'extra'; allowed: model, data, output"),
    ("[model]\ntagger = 'crf.v1'\nfoo = 1\n[data]\ntrain = {corpus = 'x'}\n", r"unknown key 'model.foo'; allowed in \[model\]: tagger, params"),
    ("[model]\ntagger = 'crf.v1'\n[model.params]\nc3 = 1\n[data]\ntrain = {corpus = 'x'}\n", r"unknown key 'model.params.c3' for tagger 'crf.v1'; allowed: c1, c2, max_iterations"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = [{corpus = 'x', splt = 'train'}]\n", r"unknown key 'data.train\[0\].splt'; allowed in \[data.train\[0\]\]: corpus, split, limit"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {corpus = 'x'}\n[output]\npath = 'm'\n", r"unknown key 'output.path'; allowed in \[output\]: dir, overwrite"),
    ("[model]\ntagger = 'nope.v1'\n[data]\ntrain = {corpus = 'x'}\n", r"unknown tagger 'nope.v1'"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ndev = {corpus = 'x'}\n", r"\[data\] needs train"),
    ("[model]\ntagger = 'crf.v1'\n", r"missing the \[data\] section"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {split = 'train'}\n", r"needs corpus"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {corpus = 'x', limit = 0}\n", r"limit must be a positive integer"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {corpus = 'x'}\nlabel_map = {A = 1}\n", r"label_map.A must be"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {corpus = 'x'}\nkeep_labels = []\n", r"keep_labels must be"),
    ("[model]\ntagger = 'crf.v1'\n[data]\ntrain = {corpus = 'x'}\n[output]\noverwrite = 'yes'\n", r"overwrite must be true or false"),
    ("[model\n", r"invalid TOML"),
])
def test_config_errors_name_the_file_and_key(tmp_path, text, match):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        training.load_train_config(path)
    assert str(path) in str(err.value)


def test_fixture_with_a_misspelled_key_is_rejected():
    with pytest.raises(ConfigError, match="unknown key 'data.labelmap'.*label_map"):
        training.load_train_config(FIXTURES / "bad_key.toml")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        training.load_train_config(tmp_path / "missing.toml")


@pytest.mark.parametrize("name", ["crf-ncbi.toml", "crf-maccrobat.toml", "crf-imd.toml"])
def test_shipped_configs_are_valid(name):
    root = Path(__file__).resolve().parent.parent / "configs"
    cfg = training.load_train_config(root / name)
    assert cfg.tagger == "crf.v1" and "train" in cfg.sources and cfg.output_dir is not None


def test_exclude_drops_training_documents_that_are_in_an_evaluation_split(tmp_path, stub_corpora):
    # the tiny dev split is the "evaluation" here: train = train + dev, exclude dev -> only the train documents
    path = tmp_path / "c.toml"
    path.write_text('[model]\ntagger = "dictionary.v1"\n[data]\n'
                    'train = [{corpus = "tiny", split = "train"}, {corpus = "tiny", split = "dev"}]\n'
                    'exclude = [{corpus = "tiny", split = "dev"}]\n', encoding="utf-8")
    cfg = training.load_train_config(path)
    assert [s.describe() for s in cfg.exclude] == ["tiny/dev"]
    manifest: dict = {}
    messages: list[str] = []
    docs = training.load_role(cfg, "train", manifest, messages.append, training.exclusion_index(cfg.exclude))
    n_train, n_dev = len(tiny_corpus()["train"]), len(tiny_corpus()["dev"])
    assert len(docs) == n_train and manifest["train"]["sources"][1]["excluded_documents"] == {"tiny/dev": n_dev}
    assert any("dropped, also in" in m for m in messages)
    # a document of another corpus with the same text is dropped too (CodiEsp dev taken into a growing corpus)
    dev0 = tiny_corpus()["dev"][0]
    copy = Document("other:1", "  " + dev0.text.replace(" ", "\n", 1) + " ")
    assert training._excluded(copy, training.exclusion_index(cfg.exclude)) == "tiny/dev"
    path.write_text('[model]\ntagger = "dictionary.v1"\n[data]\ntrain = {corpus = "tiny", split = "train"}\n'
                    'exclude = [{corpus = "tiny", splt = "dev"}]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="splt"):
        training.load_train_config(path)
