"""A tiny random BERT checkpoint (hidden 32, 2 layers) for transformer tagger tests; built offline in seconds.

Its WordPiece vocabulary holds the special tokens, lower-case letters, digits and some punctuation (with
``##`` continuations) plus the given whole words, so every word tokenizes to a few pieces.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Iterable


def make_tiny_bert(directory: Path, words: Iterable[str] = (), seed: int = 0) -> Path:
    import torch
    import transformers

    chars = string.ascii_lowercase + string.digits + ".,;:()-/'%"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(chars) + \
        ["##" + c for c in string.ascii_lowercase + string.digits]
    vocab += sorted({w.lower() for w in words if w.isalpha() and len(w) > 1} - set(vocab))
    directory.mkdir(parents=True, exist_ok=True)
    tok = transformers.BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)})
    tok.save_pretrained(directory)
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=512)
    transformers.BertForTokenClassification(cfg).save_pretrained(directory)
    return directory
