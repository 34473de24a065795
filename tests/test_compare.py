"""`imner compare` on a tiny registered corpus: trains a missing model, scores, skips with reasons, writes outputs,
from a folder other than the config's (its relative paths start from its ``root``)."""

import json
from pathlib import Path

import pytest

from imner import corpora
from imner.cli import main
from imner_dev.compare import load_compare_config
from imner.errors import ConfigError
from imner.evaluate import evaluate
from imner.io.jsonl import read_jsonl
from imner.taggers import load_tagger

FIX = Path(__file__).parent / "fixtures" / "contract"


@pytest.fixture
def tiny_corpus():
    pytest.importorskip("pycrfsuite")

    def loader(root, split):  # "test" is the training documents too: the scores then say the model was used
        return list(read_jsonl(FIX / "train.jsonl"))

    corpora.register(corpora.Corpus(name="tiny-compare", description="test", licence="test", path=FIX,
                                    splits=("train", "test"), labels=(), annotates=frozenset(), format="jsonl",
                                    loader=loader), replace=True)
    yield "tiny-compare"
    corpora.clear_cache("tiny-compare")


def test_compare_trains_scores_and_reports_skips(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.delenv("IMNER_TEST_ENDPOINT", raising=False)
    (tmp_path / "configs").mkdir()
    train_cfg = tmp_path / "configs" / "crf.toml"
    train_cfg.write_text(
        '[model]\ntagger = "crf.v1"\n[model.params]\nmax_iterations = 20\n'
        '[data]\ntrain = [{corpus = "tiny-compare", split = "train"}]\n'
        '[output]\ndir = "unused"\n', encoding="utf-8")
    cfg = tmp_path / "configs" / "compare.toml"
    cfg.write_text('''
root = ".."

[[evaluation]]
name = "tiny test"
corpus = "tiny-compare"
split = "test"

[[system]]
name = "CRF"
[system.models]
tiny-compare = {dir = "models/crf-model", config = "configs/crf.toml"}

[[system]]
name = "LLM"
tagger = "llm.v1"
requires_env = "IMNER_TEST_ENDPOINT"

[[system]]
name = "untrained elsewhere"
[system.models]
other-corpus = {dir = "nowhere"}

[[target]]
system = "CRF"
evaluation = "tiny test"
strict_f1 = 1.01
closing = "more data"
''', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the config's folder, nor its root
    out = tmp_path / "results"
    assert main(["compare", "--config", str(cfg), "--out", str(out), "--bootstrap", "50"]) == 0
    model_dir = tmp_path / "models" / "crf-model"
    assert (model_dir / "config.json").is_file()  # trained because it was missing, below the config's root
    assert not any(elsewhere.iterdir())
    res = json.loads((out / "comparison.json").read_text())
    (ev,) = res["evaluations"]
    assert [r["system"] for r in ev["rows"]] == ["CRF"]
    row = ev["rows"][0]
    # the table reports what the trained model scores, computed here independently
    gold = corpora.load("tiny-compare", "test")
    expected = evaluate(gold, load_tagger(model_dir).annotate([d.with_spans(()) for d in gold]), bootstrap=0)
    assert expected.micro["strict"].f1 > 0.5  # it learnt its three training documents
    for crit in ("strict", "partial"):
        assert row[crit]["f1"] == pytest.approx(expected.micro[crit].f1)
        assert (row[crit]["tp"], row[crit]["fp"], row[crit]["fn"]) == \
            (expected.micro[crit].tp, expected.micro[crit].fp, expected.micro[crit].fn)
    assert row["per_label_strict_f1"] == {k: pytest.approx(v.f1) for k, v in expected.per_label["strict"].items()}
    assert row["tokens_per_s"] > 0
    reasons = {s["system"]: s["reason"] for s in res["skipped"]}
    assert "IMNER_TEST_ENDPOINT" in reasons["LLM"] and "no model" in reasons["untrained elsewhere"]
    md = (out / "comparison.md").read_text()
    assert "| CRF |" in md and "## Not run" in md and res["commit"]
    gap = f"{row['strict']['f1'] - 1.01:+.3f}"
    assert "## Targets" in md and f"| {gap} | more data |" in md  # a missed target says by how much, what would close it
    assert (out / "comparison.png").is_file() or "matplotlib" not in md


def test_config_errors_name_the_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[evaluation]]\ncorpus = "x"\nsplit = "test"\nsplitt = 1\n[[system]]\nname = "a"\ntagger = "b"\n')
    with pytest.raises(ConfigError, match="splitt"):
        load_compare_config(cfg)
    cfg.write_text('[[evaluation]]\ncorpus = "x"\nsplit = "test"\n[[system]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="needs 'tagger'"):
        load_compare_config(cfg)
    with pytest.raises(ConfigError, match="comparison config file not found"):
        load_compare_config(tmp_path / "missing.toml")
