"""`imner compare` on a tiny registered corpus: trains a missing model, scores, skips with reasons, writes outputs."""

import json
from pathlib import Path

import pytest

from imner import corpora
from imner.cli import main
from imner_dev.compare import load_compare_config
from imner.errors import ConfigError
from imner.io.jsonl import read_jsonl

FIX = Path(__file__).parent / "fixtures" / "contract"


@pytest.fixture
def tiny_corpus():
    pytest.importorskip("pycrfsuite")

    def loader(root, split):
        return list(read_jsonl(FIX / ("train.jsonl" if split == "train" else "predict.jsonl")))

    corpora.register(corpora.Corpus(name="tiny-compare", description="test", licence="test", path=FIX,
                                    splits=("train", "test"), labels=(), annotates=frozenset(), format="jsonl",
                                    loader=loader), replace=True)
    yield "tiny-compare"
    corpora.clear_cache("tiny-compare")


def test_compare_trains_scores_and_reports_skips(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.delenv("IMNER_TEST_ENDPOINT", raising=False)
    train_cfg = tmp_path / "crf.toml"
    train_cfg.write_text(
        '[model]\ntagger = "crf.v1"\n[model.params]\nmax_iterations = 5\n'
        '[data]\ntrain = [{corpus = "tiny-compare", split = "train"}]\n'
        f'[output]\ndir = "{tmp_path / "unused"}"\n', encoding="utf-8")
    cfg = tmp_path / "compare.toml"
    cfg.write_text(f'''
[[evaluation]]
name = "tiny test"
corpus = "tiny-compare"
split = "test"

[[system]]
name = "CRF"
[system.models]
tiny-compare = {{dir = "{tmp_path / 'crf-model'}", config = "{train_cfg}"}}

[[system]]
name = "LLM"
tagger = "llm.v1"
requires_env = "IMNER_TEST_ENDPOINT"

[[system]]
name = "untrained elsewhere"
[system.models]
other-corpus = {{dir = "nowhere"}}

[[target]]
system = "CRF"
evaluation = "tiny test"
strict_f1 = 1.01
closing = "more data"
''', encoding="utf-8")
    out = tmp_path / "results"
    assert main(["compare", "--config", str(cfg), "--out", str(out), "--bootstrap", "50"]) == 0
    assert (tmp_path / "crf-model" / "config.json").is_file()  # trained because it was missing
    res = json.loads((out / "comparison.json").read_text())
    (ev,) = res["evaluations"]
    assert [r["system"] for r in ev["rows"]] == ["CRF"]
    row = ev["rows"][0]
    assert 0 <= row["strict"]["f1"] <= 1 and row["tokens_per_s"] > 0
    reasons = {s["system"]: s["reason"] for s in res["skipped"]}
    assert "IMNER_TEST_ENDPOINT" in reasons["LLM"] and "no model" in reasons["untrained elsewhere"]
    md = (out / "comparison.md").read_text()
    assert "| CRF |" in md and "## Not run" in md and res["commit"]
    assert "## Targets" in md and "| more data |" in md  # a missed target says by how much and what would close it
    assert (out / "comparison.png").is_file() or "matplotlib" not in md


def test_config_errors_name_the_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[evaluation]]\ncorpus = "x"\nsplit = "test"\nsplitt = 1\n[[system]]\nname = "a"\ntagger = "b"\n')
    with pytest.raises(ConfigError, match="splitt"):
        load_compare_config(cfg)
    cfg.write_text('[[evaluation]]\ncorpus = "x"\nsplit = "test"\n[[system]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="needs 'tagger'"):
        load_compare_config(cfg)
