"""``imner train`` on a team's own annotations: path sources (brat and the other formats), splits, the label map,
partial labels, bad input, and fine-tuning from the shipped default (issue 14, section 7)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from imner import training  # noqa: E402
from imner.cli import main as cli_main  # noqa: E402
from imner.errors import ConfigError, InputError, LabelError, OffsetMismatchError  # noqa: E402
from imner.io import read_documents, write_documents  # noqa: E402
from imner.training_sources import ratio_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "brat-reports"
LABEL_MAP = ('{Autoimmune = "IMMUNE_DISEASE", Infection = "INFECTIOUS_DISEASE", Disease = "OTHER_DISEASE", '
             'Microbe = "PATHOGEN", Drug = "MEDICATION"}')
TINY = ('word_dim = 8\nchar_dim = 4\nchar_filters = 4\ncase_dim = 2\nhidden_size = 8\nepochs = 1\nbatch_size = 4\n'
        'lr = 0.01\nmin_word_count = 1\nprogress = false\n')


@pytest.fixture
def reports(tmp_path) -> Path:
    """A copy of examples/brat-reports (ten short reports in a team's own labels)."""
    dst = tmp_path / "my_reports"
    shutil.copytree(EXAMPLE, dst)
    return dst


def _config(tmp_path: Path, data: str, model: str = "", params: str = TINY, output: str = "") -> Path:
    path = tmp_path / "train.toml"
    path.write_text(f'[model]\ntagger = "bilstm.v1"\n{model}\n[model.params]\n{params}\n[data]\n{data}\n'
                    f'[output]\ndir = "{(tmp_path / "model").as_posix()}"\n{output}\n', encoding="utf-8")
    return path


def test_train_on_a_brat_folder_then_extract_with_the_model(tmp_path, reports, capsys):
    split_file = tmp_path / "splits.txt"
    ids = sorted(p.stem for p in reports.glob("*.ann"))
    split_file.write_text("# id split\n" + "".join(f"{i}\t{'test' if k >= 8 else 'train'}\n"
                                                  for k, i in enumerate(ids)), encoding="utf-8")
    src = (f'path = "{reports.as_posix()}", format = "brat", split_file = "{split_file.as_posix()}", '
           f'label_map = {LABEL_MAP}, ignore_labels = ["Age"]')
    cfg = _config(tmp_path, f'train = {{{src}, split = "train"}}\ntest = {{{src}, split = "test"}}\n',
                  output=f'onnx_dir = "{(tmp_path / "model-onnx").as_posix()}"\n')
    assert cli_main(["train", str(cfg), "-q"]) == 0
    model = tmp_path / "model"
    manifest = json.loads((model / "data_manifest.json").read_text())
    train = manifest["train"]["sources"][0]
    assert train["documents"] == 8 and manifest["test"]["sources"][0]["documents"] == 2
    assert train["ignored_spans"]["Age"] == 8
    assert set(train["labels"]) <= {"IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE", "PATHOGEN", "MEDICATION"}
    assert train["annotates"] == ["IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "MEDICATION", "OTHER_DISEASE", "PATHOGEN"]
    # from scratch the model learns the classes the team annotated (fine-tuning keeps all twelve: partial labels)
    assert json.loads((model / "config.json").read_text())["labels"] == train["annotates"]
    assert (model / "splits.tsv").read_text().count("\ttest\t") == 2
    capsys.readouterr()

    # evaluate on the config's test split, read as training read it (5 classes annotated: only they are scored)
    report = tmp_path / "report.json"
    assert cli_main(["evaluate", "--train-config", str(cfg), "--model", str(model), "--bootstrap", "0",
                     "--json", str(report)]) == 0
    scores = json.loads(report.read_text())
    test_spans = manifest["test"]["sources"][0]["spans"]
    assert scores["strict"]["micro"]["support"] == test_spans
    assert set(scores["labels"]) <= set(train["annotates"])

    # extract with the trained (torch) model, then with its ONNX copy in a fresh process: no torch imported there
    text = tmp_path / "new.txt"
    text.write_text("A 50-year-old man with lupus developed pneumonia. Klebsiella pneumoniae grew.\n")
    out = tmp_path / "out.jsonl"
    assert cli_main(["extract", "--model", str(model), str(text), "-o", str(out), "--quiet"]) == 0
    rec = json.loads(out.read_text().splitlines()[0])
    body = text.read_text()
    assert all(body[e["start"]:e["end"]] == e["text"] for e in rec["entities"])
    code = ("import sys, json; from imner.cli import main; rc = main(['extract', '--model', sys.argv[1], sys.argv[2], "
            "'-o', sys.argv[3], '--quiet']); print(json.dumps([rc, 'torch' in sys.modules]))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "model-onnx"), str(text),
                          str(tmp_path / "onnx.jsonl")], capture_output=True, text=True, timeout=120)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [0, False], run.stderr[-2000:]


def test_an_unmapped_label_is_an_error_naming_the_label_and_the_file(tmp_path, reports):
    txt = (reports / "report03.txt").read_text()
    start = txt.index("Klebsiella")
    ann = reports / "report03.ann"
    ann.write_text(ann.read_text() + f"T9\tBug {start} {start + 10}\tKlebsiella\n")  # line 7
    cfg = _config(tmp_path, f'train = {{path = "{reports.as_posix()}", label_map = {LABEL_MAP}}}\n')
    with pytest.raises(LabelError) as err:
        training.train_from_config(training.load_train_config(cfg), progress=lambda m: None)
    msg = str(err.value)
    assert "'Bug'" in msg and f"{reports / 'report03.ann'}, line 7" in msg and "'Age'" in msg
    assert "label_map" in msg and "ignore_labels" in msg
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("table, match", [
    ('{path = "x", label_map = {Disease = "DISEASE"}}', r"label_map.Disease = 'DISEASE' is not one of the twelve"),
    ('{path = "x", format = "docx"}', r"format must be one of brat, conll, pubtator, bioc, jsonl"),
    ('{path = "x", split = "train"}', r"needs split_file or split_ratio"),
    ('{path = "x", split = "dev", split_ratio = {train = 0.8, test = 0.2}}', r"not one of the split_ratio names"),
    ('{path = "x", split = "train", split_ratio = {train = 0.8, test = 0.3}}', r"must sum to 1"),
    ('{path = "x", spilt = "train"}', r"unknown key 'data.train.spilt'.*allowed in \[data.train\]: path, format"),
    ('{path = "x", corpus = "imd-cases"}', r"both corpus and path"),
    ('{path = "x", annotates = ["PATHOGEN"], label_map = {Bug = "MEDICATION"}}', r"annotates does not list"),
])
def test_path_source_config_errors_name_the_file_and_key(tmp_path, table, match):
    cfg = _config(tmp_path, f"train = {table}\n")
    with pytest.raises(ConfigError, match=match) as err:
        training.load_train_config(cfg)
    assert str(cfg) in str(err.value)


def test_bad_input_names_the_file_and_line(tmp_path, reports):
    cfg = _config(tmp_path, f'train = {{path = "{(tmp_path / "nowhere").as_posix()}"}}\n')
    with pytest.raises(InputError, match=r"nowhere: not found \(the data.train source"):
        training.role_documents(training.load_train_config(cfg), "train")
    ann = reports / "report02.ann"
    ann.write_text(ann.read_text().replace("\tcellulitis", "\tcellulite"))
    cfg = _config(tmp_path, f'train = {{path = "{reports.as_posix()}", label_map = {LABEL_MAP}, '
                            'ignore_labels = ["Age"]}\n')
    with pytest.raises(OffsetMismatchError, match=rf"{ann}, line 3: mention 'cellulite' does not match"):
        training.role_documents(training.load_train_config(cfg), "train")
    ann.write_text(ann.read_text().replace("\tcellulite", "\tcellulitis").replace("T2\tDisease 23 38",
                                                                                   "T2\tDisease 23 999"))
    with pytest.raises(InputError, match=rf"{ann}, line 2: offsets \[23, 999\) are not a non-empty range"):
        training.role_documents(training.load_train_config(cfg), "train")


def test_split_file_must_list_every_document(tmp_path, reports):
    split_file = tmp_path / "splits.txt"
    split_file.write_text("report01 train\nreport99 dev\n")
    cfg = _config(tmp_path, f'train = {{path = "{reports.as_posix()}", split = "train", split_file = '
                            f'"{split_file.as_posix()}", label_map = {LABEL_MAP}, ignore_labels = ["Age"]}}\n')
    with pytest.raises(InputError, match=rf"{split_file}, line 2: document 'report99' is not in"):
        training.role_documents(training.load_train_config(cfg), "train")
    split_file.write_text("report01 train\n")
    with pytest.raises(InputError, match=r"9 documents of .* are not listed: 'report02'"):
        training.role_documents(training.load_train_config(cfg), "train")


def test_ratio_split_is_disjoint_complete_and_seeded():
    ids = [f"d{i}" for i in range(23)]
    ratio = (("train", 0.7), ("dev", 0.15), ("test", 0.15))
    parts = ratio_split(ids, ratio, 0)
    assert sorted(parts) == sorted(ids) and Counter(parts.values()) == {"train": 16, "dev": 4, "test": 3}
    assert ratio_split(list(reversed(ids)), ratio, 0) == parts
    assert ratio_split(ids, ratio, 1) != parts


@pytest.mark.parametrize("fmt, name", [("conll", "docs.conll"), ("pubtator", "docs.pubtator"),
                                       ("bioc", "docs.json"), ("jsonl", "docs.jsonl")])
def test_the_other_formats_read_as_sources(tmp_path, fmt, name):
    docs = [d.with_meta(**{}) for d in read_documents(EXAMPLE, "brat")][:3]
    if fmt == "pubtator":  # PubTator ids are numbers and its text is title|abstract
        from imner.types import Document

        docs = [Document(str(1000 + k), d.text.rstrip("\n").replace("\n", " "), d.spans) for k, d in enumerate(docs)]
    path = tmp_path / name
    write_documents(docs, path, fmt, **({"include_text": True} if fmt == "jsonl" else {}))
    cfg = _config(tmp_path, f'train = {{path = "{path.as_posix()}", format = "{fmt}", label_map = {LABEL_MAP}, '
                            'ignore_labels = ["Age"]}\n')
    got = training.role_documents(training.load_train_config(cfg), "train")
    assert len(got) == 3
    # (CoNLL rebuilds the text from its tokens, so compare the mentions, not the offsets)
    want = [sorted(d.text[s.start:s.end] for s in d.spans if s.label != "Age") for d in docs]
    assert [sorted(d.text[s.start:s.end] for s in d.spans) for d in got] == want
    assert {s.label for d in got for s in d.spans} <= {"IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE",
                                                       "PATHOGEN", "MEDICATION"}
    assert all(d.meta["annotates"] == ["IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "MEDICATION", "OTHER_DISEASE",
                                       "PATHOGEN"] for d in got)


# ---------------------------------------------------------------------------------------------- fine-tuning

def test_the_default_model_weights_load_into_bilstm_and_train_one_step():
    from imner.config import RESOURCES
    from imner.taggers import load_tagger
    from imner.taggers.bilstm.features import encode_tokens, pad_batch
    from imner.taggers.bilstm.warmstart import warm_started
    from imner.text import sentences_with_tokens
    from imner.types import Document

    default_dir = RESOURCES / "models" / "default"
    tagger = warm_started(default_dir, {"epochs": 1, "lr": 1e-4, "progress": False}, "test")
    onnx = load_tagger(default_dir)
    assert tagger.labels == onnx.labels and tagger.lexicon_features and tagger.hidden_size == 100
    docs = [d for d in read_documents(EXAMPLE, "brat")][:3]
    mapping = {"Autoimmune": "IMMUNE_DISEASE", "Infection": "INFECTIOUS_DISEASE", "Disease": "OTHER_DISEASE",
               "Microbe": "PATHOGEN", "Drug": "MEDICATION"}
    docs = [d.with_spans(s.evolve(label=mapping[s.label]) for s in d.spans if s.label in mapping)
             .with_meta(annotates=sorted(mapping.values())) for d in docs]
    tagger.fit(docs)  # one epoch over 3 short documents: 1 step (batch size 16)
    assert tagger.training_stats["init_words"] == len(onnx._words)
    assert len(tagger.history) == 1 and np.isfinite(tagger.history[0]["loss"])

    # the weights are the default's: before that step, the torch network's emissions were the ONNX graph's (up to
    # int8 rounding); after one small step they are still close, and the tags of the example text are the same
    text = docs[0].text
    tokens = [t for _, toks in sentences_with_tokens(text) for t in toks]
    lex = onnx._lexicon.predict([Document("x", text)])[0]
    batch = pad_batch(*([a] for a in encode_tokens(tokens, onnx._words, onnx._chars, 50, lex, onnx._lex_tags)))
    expected = onnx.emissions(batch)
    tb = {k: torch.from_numpy(v) for k, v in batch.items()}
    with torch.no_grad():
        got = tagger._net.emissions(tb["words"], tb["chars"], tb["case"], tb["lex"], tb["mask"]).numpy()
    assert np.corrcoef(expected.ravel(), got.ravel())[0, 1] > 0.99
    assert (expected.argmax(-1) == got.argmax(-1)).mean() > 0.9


def test_init_config_checks(tmp_path):
    cfg = _config(tmp_path, 'train = {path = "x"}\n', model='init = "default"', params="hidden_size = 50\n")
    loaded = training.load_train_config(cfg)
    assert loaded.targets == tuple(json.loads((loaded.init / "config.json").read_text())["labels"])
    with pytest.raises(ConfigError, match=r"hidden_size = 50, but the init model .* has 100"):
        from imner.taggers.bilstm.warmstart import warm_started

        warm_started(loaded.init, loaded.params, str(cfg))
    bad = tmp_path / "crf.toml"
    bad.write_text('[model]\ntagger = "crf.v1"\ninit = "default"\n[data]\ntrain = {path = "x"}\n')
    with pytest.raises(ConfigError, match=r"model.init .* works with tagger = \"bilstm.v1\""):
        training.load_train_config(bad)
    cfg = _config(tmp_path, 'train = {path = "x"}\n', model=f'init = "{(tmp_path / "none").as_posix()}"')
    with pytest.raises(ConfigError, match=r"is not a model directory"):
        training.load_train_config(cfg)


def test_the_shipped_user_config_is_valid():
    cfg = training.load_train_config(ROOT / "configs" / "user-brat.toml")
    assert cfg.init is not None and [s.split for r in ("train", "dev", "test") for s in cfg.sources[r]] == [
        "train", "dev", "test"]


def test_init_from_a_trained_bilstm_directory(tmp_path):
    from imner.taggers.bilstm.tagger import BiLSTMTagger
    from imner.taggers.bilstm.warmstart import warm_started

    mapping = {"Autoimmune": "IMMUNE_DISEASE", "Microbe": "PATHOGEN"}
    docs = [d.with_spans(s.evolve(label=mapping[s.label]) for s in d.spans if s.label in mapping)
            for d in read_documents(EXAMPLE, "brat")]
    small = dict(word_dim=8, char_dim=4, char_filters=4, case_dim=2, hidden_size=8, batch_size=4, lr=0.01,
                 min_word_count=2, progress=False)
    BiLSTMTagger(**small, epochs=1).fit(docs[:5]).save(tmp_path / "first")
    tagger = warm_started(tmp_path / "first", {"epochs": 1, "progress": False, "min_word_count": 1}, "test")
    saved = torch.load(tmp_path / "first" / "model.pt", weights_only=True)
    assert tagger.hidden_size == 8 and tagger.labels == ("IMMUNE_DISEASE", "PATHOGEN")
    tagger.fit(docs[5:])
    state = tagger._net.state_dict()
    n_words = saved["word_emb.weight"].shape[0]
    assert tagger.training_stats["training_words_added"] > 0 and state["word_emb.weight"].shape[0] > n_words
    # training went on from the saved weights: one epoch moved them a little
    delta = (state["lstm.weight_ih_l0"] - saved["lstm.weight_ih_l0"]).abs().max().item()
    assert 0 < delta < 0.2


def test_without_a_label_map_the_classes_found_are_the_ones_annotated(tmp_path):
    from imner.types import Document, Span

    docs = [Document("a", "Klebsiella pneumoniae grew.", [Span(0, 21, "PATHOGEN")]),
            Document("b", "No growth.", [])]
    path = tmp_path / "pathogens.jsonl"
    write_documents(docs, path, "jsonl", include_text=True)
    cfg = _config(tmp_path, f'train = {{path = "{path.as_posix()}"}}\n')
    got = training.role_documents(training.load_train_config(cfg), "train")
    assert [d.meta["annotates"] for d in got] == [["PATHOGEN"], ["PATHOGEN"]]
    manifest: dict = {}
    training.load_role(training.load_train_config(cfg), "train", manifest, lambda m: None)
    assert manifest["train"]["sources"][0]["annotates"] == ["PATHOGEN"]


def test_init_fill_adds_the_init_models_spans_of_the_classes_not_annotated(tmp_path):
    from imner.config import RESOURCES

    docs = [d.with_spans(s.evolve(label="MEDICATION") for s in d.spans if s.label == "Drug")
            .with_meta(annotates=["MEDICATION"]) for d in read_documents(EXAMPLE, "brat")][:3]
    manifest: dict = {}
    filled = training.fill_from_model(docs, RESOURCES / "models" / "default", manifest, lambda m: None)
    added = [s for d in filled for s in d.spans if s.attrs.get("source") == "init"]
    assert added and all(s.label != "MEDICATION" for s in added)
    assert sum(manifest["init_fill"]["spans_added"].values()) == len(added)
    labels = {s.label for s in added}
    assert labels & {"IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN"}  # the default finds lupus, pneumonia...
    for d, f in zip(docs, filled):  # the gold spans are kept, none overlapped
        assert set(d.spans) <= set(f.spans)
    bad = _config(tmp_path, 'train = {path = "x"}\n', model="init_fill = true")
    with pytest.raises(ConfigError, match="set model.init too"):
        training.load_train_config(bad)
