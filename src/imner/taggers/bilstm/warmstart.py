"""Fine-tuning a ``bilstm.v1`` tagger from a trained model's weights (``[model] init`` of ``imner train``).

The model to start from is a ``bilstm.v1`` directory (``model.pt``) or a ``bilstm-onnx.v1`` directory such as the
shipped default (``imner/resources/models/default``). From an ONNX graph the weights are read back into the
``bilstm.v1`` network: embeddings, character CNN, both LSTM directions (ONNX gate order ``i o f c`` back to
PyTorch's ``i f g o``; the int8 weights of a quantized graph are dequantized, ``(q - zero_point) * scale``, so they
are the float weights up to the int8 rounding), the output layer and the CRF scores (``crf.npz`` less the BIO
penalties that the export added).

The architecture (embedding sizes, ``hidden_size``, lexicon features) and the labels come from the model; a
``[model.params]`` value that contradicts them is an error. Training parameters (``lr``, ``epochs``,
``batch_size`` ...) come from the config. The vocabulary is the model's, plus the training documents' words seen
``min_word_count`` times and their new characters (new rows start random, as in training from scratch). The
dictionary tagger of the lexicon features is the model's ``lexicon/`` (the same features it was trained with).
Needs torch and, for an ONNX model, the ``onnx`` package (the ``train`` extra).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from imner.errors import ConfigError, ModelError, ModelNotFoundError

#: constructor parameters of ``bilstm.v1`` that the starting model fixes
ARCH_KEYS: tuple[str, ...] = ("word_dim", "char_dim", "char_filters", "char_width", "max_word_chars", "case_dim",
                              "lexicon_features", "lexicon_dim", "hidden_size")
#: ONNX LSTM gate blocks (i, o, f, c) in PyTorch's order (i, f, g, o)
_ONNX_TO_TORCH_GATES = (0, 2, 3, 1)


@dataclass
class InitWeights:
    """What a fine-tuning run starts from: the model's architecture, labels, vocabularies and weights."""

    source: Path
    labels: tuple[str, ...]
    arch: dict[str, Any]
    words: list[str]
    chars: list[str]
    lex_tags: list[str]
    state: dict[str, np.ndarray] = field(repr=False)
    lexicon_dir: Path | None = None


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing: cannot start training from {path.parent}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelError(f"{path}: not valid JSON ({e})") from None


def read_init(directory: str | Path) -> InitWeights:
    """The weights of the ``bilstm.v1`` or ``bilstm-onnx.v1`` model in ``directory``."""
    directory = Path(directory)
    cfg = _read_json(directory / "config.json")
    name = cfg.get("tagger") if isinstance(cfg, dict) else None
    if name == "bilstm.v1":
        return _from_torch(directory, cfg)
    if name == "bilstm-onnx.v1":
        return _from_onnx(directory, cfg)
    raise ConfigError(f"{directory}: a {name!r} model; fine-tuning starts from a bilstm.v1 or bilstm-onnx.v1 model "
                      "(the shipped default is one)")


def _vocab(path: Path) -> tuple[list[str], list[str], list[str]]:
    vocab = _read_json(path)
    try:
        return list(vocab["words"]), list(vocab["chars"]), list(vocab["lexicon_tags"])
    except (KeyError, TypeError):
        raise ModelError(f"{path}: a vocabulary file holds words, chars and lexicon_tags lists") from None


def _from_torch(directory: Path, cfg: Mapping[str, Any]) -> InitWeights:
    from imner.taggers.bilstm.tagger import LEXICON_DIR, MODEL_FILE, VOCAB_FILE, _torch

    torch = _torch()
    words, chars, lex_tags = _vocab(directory / VOCAB_FILE)
    if not (directory / MODEL_FILE).is_file():
        raise ModelNotFoundError(f"{directory / MODEL_FILE} is missing: cannot start training from {directory}")
    state = torch.load(directory / MODEL_FILE, map_location="cpu", weights_only=True)
    arch = {k: cfg[k] for k in ARCH_KEYS if k in cfg}
    return InitWeights(directory, tuple(cfg["labels"]), arch, words, chars, lex_tags,
                       {k: v.numpy() for k, v in state.items()},
                       directory / LEXICON_DIR if cfg.get("lexicon_features") else None)


def _from_onnx(directory: Path, cfg: Mapping[str, Any]) -> InitWeights:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError("fine-tuning from an ONNX model needs the onnx package: pip install 'imner[train]'") from e

    model_path = directory / cfg["model_file"]
    if not model_path.is_file():
        raise ModelNotFoundError(f"{model_path} is missing: cannot start training from {directory}")
    graph = onnx.load(str(model_path)).graph
    raw = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def has(name: str) -> bool:
        return name in raw or f"{name}_quantized" in raw

    def get(name: str) -> np.ndarray:
        """A float initializer, dequantized when the graph holds it as int8/uint8 with a scale and zero point."""
        if name in raw and raw[name].dtype.kind == "f":
            return raw[name].astype(np.float32)
        try:
            q, scale, zp = raw[f"{name}_quantized"], raw[f"{name}_scale"], raw[f"{name}_zero_point"]
        except KeyError:
            raise ModelError(f"{model_path}: no weights {name!r}; not a graph that bilstm.v1 exported") from None
        return (q.astype(np.float32) - zp.astype(np.float32)) * scale.astype(np.float32)

    state: dict[str, np.ndarray] = {}
    for part in ("word_emb", "char_emb", "case_emb", "lex_emb"):
        if has(f"net.{part}.weight"):
            state[f"{part}.weight"] = get(f"net.{part}.weight")
    state["char_cnn.weight"] = get("net.char_cnn.weight")
    state["char_cnn.bias"] = get("net.char_cnn.bias")

    lstms = {}
    matmuls = []
    for node in graph.node:
        if node.op_type in ("LSTM", "DynamicQuantizeLSTM"):
            lstms["fwd" if "/fwd/" in node.name else "bwd" if "/bwd/" in node.name else node.name] = node
        elif node.op_type in ("MatMul", "MatMulInteger") and node.input[1] in raw:
            matmuls.append(node.input[1])
    if set(lstms) != {"fwd", "bwd"} or len(matmuls) != 1:
        raise ModelError(f"{model_path}: expected a forward and a backward LSTM and one output MatMul (the graph "
                         f"export_bilstm_onnx writes), found LSTMs {sorted(lstms)} and {len(matmuls)} MatMuls")
    for direction, suffix in (("fwd", ""), ("bwd", "_reverse")):
        w, r, b = _lstm_weights(lstms[direction], raw)
        hidden = r.shape[-1]
        state[f"lstm.weight_ih_l0{suffix}"] = _reorder(w[0], hidden)
        state[f"lstm.weight_hh_l0{suffix}"] = _reorder(r[0], hidden)
        state[f"lstm.bias_ih_l0{suffix}"] = _reorder(b[0, :4 * hidden], hidden)
        state[f"lstm.bias_hh_l0{suffix}"] = _reorder(b[0, 4 * hidden:], hidden)
    out_name = matmuls[0].removesuffix("_quantized")
    state["out.weight"] = np.ascontiguousarray(get(out_name).T)
    state["out.bias"] = get("net.out.bias")

    with np.load(directory / cfg["crf_file"], allow_pickle=False) as crf:
        state["crf.transitions"] = (crf["transitions"] - crf["trans_penalty"]).astype(np.float32)
        state["crf.start"] = (crf["start"] - crf["start_penalty"]).astype(np.float32)
        state["crf.end"] = crf["end"].astype(np.float32)

    words, chars, lex_tags = _vocab(directory / cfg["vocab_file"])
    filters, char_dim, width = state["char_cnn.weight"].shape
    arch = {"word_dim": int(state["word_emb.weight"].shape[1]), "char_dim": int(char_dim),
            "char_filters": int(filters), "char_width": int(width),
            "max_word_chars": int(cfg.get("preprocessing", {}).get("max_word_chars", 50)),
            "case_dim": int(state["case_emb.weight"].shape[1]) if "case_emb.weight" in state else 0,
            "lexicon_features": "lex_emb.weight" in state,
            "hidden_size": int(state["lstm.weight_hh_l0"].shape[1])}
    if "lex_emb.weight" in state:
        arch["lexicon_dim"] = int(state["lex_emb.weight"].shape[1])
    if len(words) != state["word_emb.weight"].shape[0] or len(chars) != state["char_emb.weight"].shape[0]:
        raise ModelError(f"{directory}: vocab.json has {len(words)} words and {len(chars)} characters, the graph "
                         f"{state['word_emb.weight'].shape[0]} and {state['char_emb.weight'].shape[0]}")
    lexicon = cfg.get("lexicon_dir")
    return InitWeights(directory, tuple(cfg["labels"]), arch, words, chars, lex_tags, state,
                       directory / lexicon if lexicon else None)


def _lstm_weights(node: Any, raw: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W (1, 4H, in)``, ``R (1, 4H, H)`` and ``B (1, 8H)`` of an ONNX LSTM node (float or dynamically quantized:
    the quantized node keeps ``W``/``R`` transposed, ``(1, in, 4H)``, with per-gate-row scales)."""
    if node.op_type == "LSTM":
        return (raw[node.input[1]].astype(np.float32), raw[node.input[2]].astype(np.float32),
                raw[node.input[3]].astype(np.float32))

    def deq(q: str, scale: str, zp: str) -> np.ndarray:
        s = raw[scale].astype(np.float32)[:, None, :]
        z = raw[zp].astype(np.float32)[:, None, :]
        return ((raw[q].astype(np.float32) - z) * s).transpose(0, 2, 1)

    w = deq(node.input[1], node.input[8], node.input[9])
    r = deq(node.input[2], node.input[10], node.input[11])
    return w, r, raw[node.input[3]].astype(np.float32)


def _reorder(blocks: np.ndarray, hidden: int) -> np.ndarray:
    """Rows in ONNX gate order (i, o, f, c) -> PyTorch order (i, f, g, o)."""
    parts = [blocks[k * hidden:(k + 1) * hidden] for k in range(4)]
    return np.ascontiguousarray(np.concatenate([parts[k] for k in _ONNX_TO_TORCH_GATES], axis=0))


def warm_started(directory: str | Path, params: Mapping[str, Any], where: str) -> Any:
    """A ``bilstm.v1`` tagger that :meth:`~imner.taggers.bilstm.tagger.BiLSTMTagger.fit` trains from the weights
    in ``directory``; ``params`` are the config's ``[model.params]`` (``where`` names the config in errors)."""
    from imner.taggers.base import load_tagger
    from imner.taggers.bilstm.tagger import BiLSTMTagger

    init = read_init(directory)
    for key in ARCH_KEYS:
        if key in params and key in init.arch and params[key] != init.arch[key]:
            raise ConfigError(f"{where}: model.params.{key} = {params[key]!r}, but the init model {directory} has "
                              f"{init.arch[key]!r}; the architecture comes from the model (leave {key} out)")
    for key in ("embeddings", "lexicon_tagger"):
        if params.get(key) is not None:
            raise ConfigError(f"{where}: model.params.{key} cannot be set with model.init: the word vectors and the "
                              "lexicon features come from the init model")
    labels = params.get("labels")
    if labels and set(labels) != set(init.labels):
        raise ConfigError(f"{where}: model.params.labels must be the init model's labels "
                          f"({', '.join(init.labels)}) or left out")
    lexicon = load_tagger(init.lexicon_dir) if init.arch.get("lexicon_features") and init.lexicon_dir else None
    kw = {k: v for k, v in params.items() if k not in ("labels", "embeddings", "lexicon_tagger")}
    kw.update(init.arch)
    tagger = BiLSTMTagger(**kw, labels=init.labels, lexicon_tagger=lexicon)
    tagger.init_weights = init
    return tagger


__all__ = ["ARCH_KEYS", "InitWeights", "read_init", "warm_started"]
