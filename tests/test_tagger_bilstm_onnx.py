"""bilstm-onnx.v1: the NumPy CRF (numpy_crf), the export of a tiny bilstm.v1 model and the torch-free tagger."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imner.errors import ConfigError, ModelNotFoundError
from imner.tags import label_set
from imner.taggers.bilstm.numpy_crf import log_partition, marginals, viterbi
from imner.types import Document, span_from_dict

FIXTURES = Path(__file__).parent / "fixtures" / "bilstm"
TAGS = label_set(["A", "B"], "BIO")  # O, B-A, I-A, B-B, I-B
FORBIDDEN = -1e4


def read_docs() -> list[Document]:
    path = FIXTURES / "tiny_docs.jsonl"
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        spans = [span_from_dict({k: v for k, v in s.items() if k != "text"}) for s in rec["spans"]]
        docs.append(Document(rec["id"], rec["text"], spans))
    return docs


# ---------------------------------------------------------------------------------------------- numpy CRF

def _random_crf(seed: int, lengths: tuple[int, ...], n_tags: int = 5, constrain: bool = True):
    """float32 (transitions, start, end, emissions, mask); BIO penalties of TAGS added when ``constrain``."""
    rng = np.random.default_rng(seed)
    trans = rng.normal(size=(n_tags, n_tags)).astype(np.float32)
    start = rng.normal(size=n_tags).astype(np.float32)
    end = rng.normal(size=n_tags).astype(np.float32)
    if constrain:
        for j, to in enumerate(TAGS):
            if to.startswith("I-"):
                start[j] += FORBIDDEN
                for i, frm in enumerate(TAGS):
                    if frm == "O" or frm[2:] != to[2:]:
                        trans[i, j] += FORBIDDEN
    em = rng.normal(scale=2.0, size=(len(lengths), max(lengths), n_tags)).astype(np.float32)
    mask = np.zeros((len(lengths), max(lengths)), bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
    return trans, start, end, em, mask


def _brute(trans, start, end, em, b, n):
    """(path, score) of every tag sequence of length n for row b."""
    out = []
    for path in itertools.product(range(em.shape[2]), repeat=n):
        s = float(start[path[0]]) + float(end[path[-1]]) + sum(float(em[b, i, t]) for i, t in enumerate(path))
        out.append((path, s + sum(float(trans[a, c]) for a, c in zip(path, path[1:]))))
    return out


@pytest.mark.parametrize("constrain", [True, False])
def test_numpy_viterbi_marginals_and_partition_equal_brute_force(constrain):
    trans, start, end, em, mask = _random_crf(0, (4, 1, 3), constrain=constrain)
    paths = viterbi(em, trans, start, end, mask)
    logz = log_partition(em, trans, start, end, mask)
    marg = marginals(em, trans, start, end, mask)
    for b, n in enumerate((4, 1, 3)):
        scored = _brute(trans, start, end, em, b, n)
        assert tuple(paths[b]) == max(scored, key=lambda x: x[1])[0]
        m = max(s for _, s in scored)
        z = m + math.log(sum(math.exp(s - m) for _, s in scored))
        assert logz[b] == pytest.approx(z, abs=1e-6)
        expected = np.zeros((n, em.shape[2]))
        for path, s in scored:
            for i, t in enumerate(path):
                expected[i, t] += math.exp(s - z)
        np.testing.assert_allclose(marg[b, :n], expected, atol=1e-9)
        assert not marg[b, n:].any()
    if constrain:
        for path in paths:
            tags = [TAGS[p] for p in path]
            for prev, cur in zip(["O"] + tags, tags):
                assert not cur.startswith("I-") or prev[2:] == cur[2:]


def test_numpy_viterbi_input_checks():
    trans, start, end, em, mask = _random_crf(0, (2,))
    assert viterbi(em[:0], trans, start, end, mask[:0]) == []
    with pytest.raises(ValueError, match="emissions must be"):
        viterbi(em[0], trans, start, end, mask)


def test_numpy_crf_equals_torch_crf_decode_and_marginals():
    torch = pytest.importorskip("torch")
    from imner.taggers.bilstm.torch_crf import CRF

    lengths = (12, 1, 7, 12, 3, 9)
    for seed in range(5):
        trans, start, end, em, mask = _random_crf(seed, lengths, constrain=False)
        crf = CRF(TAGS)  # learnt scores below, BIO penalties from torch_crf itself
        with torch.no_grad():
            crf.transitions.copy_(torch.from_numpy(trans))
            crf.start.copy_(torch.from_numpy(start))
            crf.end.copy_(torch.from_numpy(end))
            eff_trans, eff_start = (x.numpy() for x in crf._scores())
        em_t, mask_t = torch.from_numpy(em), torch.from_numpy(mask)
        assert viterbi(em, eff_trans, eff_start, end, mask) == crf.decode(em_t, mask_t)
        np.testing.assert_allclose(marginals(em, eff_trans, eff_start, end, mask),
                                   crf.marginals(em_t, mask_t).numpy(), atol=1e-5)


# ---------------------------------------------------------------------------------------------- torch-free import

_BLOCKED = """
import json, sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
from imner.taggers.base import load_tagger, resolve
from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger
assert resolve("bilstm-onnx.v1") is BiLSTMOnnxTagger
out = {}
if len(sys.argv) > 1:
    from imner.types import Document
    tagger = load_tagger(sys.argv[1])
    texts = json.loads(sys.stdin.read())
    out["spans"] = [[[s.start, s.end, s.label] for s in spans]
                    for spans in tagger.predict([Document(str(i), t) for i, t in enumerate(texts)])]
out["torch_modules"] = sorted(k for k, v in sys.modules.items() if k.split(".")[0] == "torch" and v is not None)
print(json.dumps(out))
"""


def _run_blocked(*args: str, stdin: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", _BLOCKED, *args], input=stdin, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_onnx_tagger_imports_with_torch_blocked():
    assert _run_blocked()["torch_modules"] == []


# ---------------------------------------------------------------------------------------------- export and parity

SMALL = dict(word_dim=16, char_dim=8, char_filters=8, case_dim=4, hidden_size=16, dropout=0.1, word_dropout=0.0,
             lr=0.02, batch_size=4, progress=False, min_word_count=1, threads=1)


def _dictionary(workdir: Path):
    """A dictionary.v1 tagger over a four-term gazetteer written to ``workdir``."""
    from imner.lexicon import Concept, builder_from_records
    from imner.taggers.dictionary import DictionaryTagger

    concepts = [Concept("IMNER:sle", "systemic lupus erythematosus", "IMMUNE_DISEASE", "imner"),
                Concept("IMNER:tb", "tuberculosis", "INFECTIOUS_DISEASE", "imner"),
                Concept("IMNER:pna", "pneumonia", "INFECTIOUS_DISEASE", "imner"),
                Concept("IMNER:pred", "prednisone", "MEDICATION", "imner")]
    path = builder_from_records(concepts).write(workdir / "gazetteer.json.gz")
    return DictionaryTagger(lexicon=path, labels=["IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "MEDICATION"],
                            stoplist=None)


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return read_docs()


@pytest.fixture(scope="module")
def torch_model(docs, tmp_path_factory) -> Path:
    """A tiny bilstm.v1 with lexicon features, trained and saved."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from imner.taggers.bilstm.tagger import BiLSTMTagger

    work = tmp_path_factory.mktemp("bilstm")
    tagger = BiLSTMTagger(**SMALL, epochs=25, patience=25, lexicon_features=True, lexicon_tagger=_dictionary(work))
    return tagger.fit(docs, docs).save(work / "torch")


@pytest.fixture(scope="module")
def exported(torch_model, tmp_path_factory) -> Path:
    from imner.taggers.bilstm.export import export_bilstm_onnx

    return export_bilstm_onnx(torch_model, tmp_path_factory.mktemp("onnx") / "m")


def _keys(preds):
    return [[(s.start, s.end, s.label) for s in spans] for spans in preds]


# a long word (> max_word_chars: only its ends reach the CNN), unknown words and characters, digits
EXTRA = [Document("x1", "Tuberculosis and pneumonia were treated; rifampin given. " + "a" * 80 + " ñandú 12.5 mg."),
         Document("x2", ""), Document("x3", "Lupus.\n\nPrednisone")]


def test_export_writes_the_documented_directory(exported, torch_model):
    from imner.taggers.bilstm.tagger import BiLSTMTagger

    cfg = json.loads((exported / "config.json").read_text(encoding="utf-8"))
    assert cfg["tagger"] == "bilstm-onnx.v1" and cfg["model_file"] == "model.onnx" and cfg["opset"] == 17
    assert cfg["preprocessing"] == {"sentences": "imner.text.sentences_with_tokens",
                                    "word_normalization": "lower+digits0", "casing": "casing.v1",
                                    "max_word_chars": 50}
    assert cfg["lexicon_dir"] == "lexicon" and (exported / "lexicon" / "config.json").is_file()
    source = BiLSTMTagger.load(torch_model)
    assert cfg["labels"] == list(source.labels) and cfg["tags"] == source.tags
    with np.load(exported / "crf.npz") as crf:
        trans, start = (x.detach().numpy() for x in source._net.crf._scores())
        np.testing.assert_array_equal(crf["transitions"], trans)
        np.testing.assert_array_equal(crf["start"], start)
        np.testing.assert_array_equal(crf["end"], source._net.crf.end.detach().numpy())
        assert (crf["trans_penalty"] == FORBIDDEN).any() and (crf["start_penalty"] == FORBIDDEN).any()


def test_onnx_predicts_the_torch_spans(exported, torch_model, docs):
    import torch

    from imner.taggers.bilstm.tagger import BiLSTMTagger
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    source = BiLSTMTagger.load(torch_model)
    onnx = BiLSTMOnnxTagger(exported, threads=1, batch_size=3)
    inputs = docs + EXTRA
    expected, got = source.predict(inputs), onnx.predict(inputs)
    assert sum(map(len, expected)) > 0
    assert _keys(got) == _keys(expected)
    for a, b in zip(itertools.chain(*expected), itertools.chain(*got)):
        assert b.score == pytest.approx(a.score, abs=1e-4)
    # the emissions themselves, on a padded batch (sentences of different lengths, a long word)
    sents = [s for d in source._sentences(inputs) for s in d]
    batch = source._batch(sents)
    with torch.no_grad():
        ref = source._net.emissions(batch["words"], batch["chars"], batch["case"], batch["lex"], batch["mask"])
    em = onnx.emissions({k: v.numpy() for k, v in batch.items()})
    mask = batch["mask"].numpy()
    np.testing.assert_allclose(em[mask], ref.numpy()[mask], atol=1e-4)


def test_onnx_tagger_runs_with_torch_blocked(exported, torch_model, docs):
    from imner.taggers.bilstm.tagger import BiLSTMTagger

    inputs = docs + EXTRA
    out = _run_blocked(str(exported), stdin=json.dumps([d.text for d in inputs]))
    assert out["torch_modules"] == []
    assert [[tuple(s) for s in spans] for spans in out["spans"]] == _keys(BiLSTMTagger.load(torch_model).predict(inputs))


def test_save_and_load_tagger(exported, docs, tmp_path):
    from imner.taggers.base import load_tagger
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    tagger = load_tagger(exported)
    assert isinstance(tagger, BiLSTMOnnxTagger) and tagger.threads == 2
    saved = tagger.save(tmp_path / "copy")
    assert {p.name for p in saved.iterdir()} == {"config.json", "model.onnx", "crf.npz", "vocab.json", "lexicon"}
    loaded = load_tagger(saved)
    assert isinstance(loaded, BiLSTMOnnxTagger) and loaded.labels == tagger.labels
    assert json.loads((saved / "config.json").read_text()) == json.loads((exported / "config.json").read_text())
    assert _keys(loaded.predict(docs)) == _keys(tagger.predict(docs))
    assert tagger.save(exported) == exported  # saving over itself keeps the files
    assert (exported / "model.onnx").is_file()


def test_quantized_export_without_lexicon_or_casing(docs, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from imner.taggers.bilstm.tagger import BiLSTMTagger
    from imner.taggers.bilstm.export import export_bilstm_onnx
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    source = BiLSTMTagger(**{**SMALL, "case_dim": 0}, epochs=2).fit(docs)
    out = export_bilstm_onnx(source.save(tmp_path / "torch"), tmp_path / "onnx", quantize=True, keep_fp32=True)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_file"] == "model.int8.onnx" and cfg["lexicon_dir"] is None and cfg["source"]["quantized"]
    fp32 = BiLSTMOnnxTagger(out, threads=1, model_file="model.onnx")
    assert fp32._inputs == ["words", "chars"]  # the inputs the network does not use are left out
    assert _keys(fp32.predict(docs)) == _keys(source.predict(docs))
    int8 = BiLSTMOnnxTagger(out, threads=1)
    assert int8.model_file == "model.int8.onnx" and len(int8.predict(docs)) == len(docs)
    assert not (out / "lexicon").exists()
    with pytest.raises(ConfigError, match="keep_fp32"):
        export_bilstm_onnx(tmp_path / "torch", tmp_path / "x", quantize=False, keep_fp32=False)


def test_bad_directories_and_parameters(exported, tmp_path):
    import shutil

    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    with pytest.raises(ModelNotFoundError, match="no config.json"):
        BiLSTMOnnxTagger(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="threads"):
        BiLSTMOnnxTagger(exported, threads=0)
    with pytest.raises(ConfigError, match="cannot be trained"):
        BiLSTMOnnxTagger(exported).fit([])
    with pytest.raises(ModelNotFoundError, match="model.int8.onnx is missing"):
        BiLSTMOnnxTagger(exported, model_file="model.int8.onnx")
    bad = shutil.copytree(exported, tmp_path / "bad")
    cfg = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**cfg, "preprocessing": {**cfg["preprocessing"],
                                                                          "casing": "casing.v9"}}))
    with pytest.raises(ConfigError, match="preprocessing casing 'casing.v9' is not supported"):
        BiLSTMOnnxTagger(bad)
    (bad / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "crf_file"}))
    with pytest.raises(ConfigError, match="missing the 'crf_file' key"):
        BiLSTMOnnxTagger(bad)
    (bad / "config.json").write_text(json.dumps(cfg))
    (bad / "crf.npz").unlink()
    with pytest.raises(ModelNotFoundError, match="crf.npz is missing"):
        BiLSTMOnnxTagger(bad)



# ---------------------------------------------------------------- the shipped default (issue 14 §5, §6)

def _shipped():
    from imner.pipeline import DEFAULT_MODEL_DIR
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip("no shipped default model in this checkout")
    return BiLSTMOnnxTagger(DEFAULT_MODEL_DIR)


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "case_report.txt"


def test_a_document_gets_the_same_spans_whatever_else_is_in_its_batch():
    # dynamic int8 quantization scales each run's activations by the run's range: a document batched with
    # others used to get other scores (and, on 20 MACCROBAT texts, 7 of 1,527 other spans) than alone
    tagger = _shipped()
    doc = Document("case", EXAMPLE.read_text(encoding="utf-8"))
    other = Document("other", " ".join(["XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"] * 3
                                       + ["ÆØÅ§§§ 99999999999999 %%%% ]]]]"] * 20) + "\nSevere sepsis. " * 30)
    alone = tagger.predict([doc])[0]
    assert alone
    for batch in ([doc, other], [other, doc, other]):
        together = tagger.predict(batch)[batch.index(doc)]
        assert [(s.start, s.end, s.label, s.score) for s in together] == [
            (s.start, s.end, s.label, s.score) for s in alone]


def test_hard_wrapped_text_gives_the_entities_of_the_unwrapped_text():
    import textwrap

    tagger = _shipped()
    text = EXAMPLE.read_text(encoding="utf-8")
    wrapped = "\n".join(textwrap.fill(line, 60, break_long_words=False) for line in text.split("\n"))
    flat, folded = tagger.predict([Document("a", text), Document("b", wrapped)])
    squash = " ".join
    assert [(squash(wrapped[s.start:s.end].split()), s.label) for s in folded] == [
        (squash(text[s.start:s.end].split()), s.label) for s in flat]
    mentions = {squash(wrapped[s.start:s.end].split()) for s in folded}
    assert {"systemic lupus erythematosus", "Streptococcus pneumoniae", "lupus nephritis"} <= mentions


def test_lexicon_backoff_adds_ontology_matches_where_the_network_found_nothing(exported, docs):
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    plain = BiLSTMOnnxTagger(exported)
    backoff = BiLSTMOnnxTagger(exported, lexicon_backoff=list(plain.labels))
    lexical = plain._lexicon.predict(docs)
    for doc, a, b, lex in zip(docs, plain.predict(docs), backoff.predict(docs), lexical):
        assert set(_keys([a])[0]) <= set(_keys([b])[0])  # nothing the network found is lost
        added = [s for s in b if s.attrs.get("source") == "lexicon" and (s.start, s.end, s.label) not in
                 {(x.start, x.end, x.label) for x in a}]
        for s in added:
            assert (s.start, s.end, s.label) in {(x.start, x.end, x.label) for x in lex}
            assert not any(o.start < s.end and s.start < o.end for o in a)
    assert "lexicon_backoff" in backoff.config() and "lexicon_backoff" not in plain.config()
    with pytest.raises(ConfigError, match="lexicon_backoff"):
        BiLSTMOnnxTagger(exported, lexicon_backoff=["NOT_A_LABEL"])


def test_a_sentence_longer_than_the_window_is_cut_into_windows_that_keep_every_token():
    from imner.taggers.bilstm.onnx import MAX_SENTENCE_TOKENS, sentence_windows
    from imner.text import tokenize

    clause = "the patient with systemic lupus erythematosus had fever and a rash, "
    text = clause * 60                                         # one line, no sentence end: ~780 tokens
    toks = tokenize(text)
    windows = sentence_windows(toks)
    assert len(windows) > 2 and all(len(w) <= MAX_SENTENCE_TOKENS for w in windows)
    assert [t for w in windows for t in w] == toks             # nothing dropped, nothing repeated, in order
    assert all(w[-1].text == "," for w in windows[:-1])        # cut after a comma
    assert sentence_windows(toks[:10]) == [toks[:10]]
    spans = _shipped().predict([Document("long", text)])[0]
    sle = [s for s in spans if text[s.start:s.end] == "systemic lupus erythematosus"]
    assert len(sle) == 60                                      # every repetition, exact offsets
    assert all(text[s.start:s.end].strip() == text[s.start:s.end] for s in spans)
