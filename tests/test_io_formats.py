"""imner.io: format detection, read_documents / write_documents across formats."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from imner.errors import InputError
from imner.io import FORMATS, detect_format, read_documents, write_documents

FIX = Path(__file__).parent / "fixtures" / "io"


@pytest.mark.parametrize("path, fmt", [
    (FIX / "brat", "brat"),
    (FIX / "brat" / "case1.ann", "brat"),
    (FIX / "brat" / "case1.txt", "brat"),            # text with a sibling .ann
    (FIX / "pubtator" / "sample.pubtator", "pubtator"),
    (FIX / "jsonl" / "docs.jsonl", "jsonl"),
    (FIX / "bioc" / "sample.json", "bioc"),
    (FIX / "conll" / "ncbi_like.tsv", "conll"),
])
def test_detect(path, fmt):
    assert detect_format(path) == fmt


def test_detect_pubtator_txt_and_failures(tmp_path):
    p = tmp_path / "corpus.txt"
    shutil.copy(FIX / "pubtator" / "sample.pubtator", p)
    assert detect_format(p) == "pubtator"
    plain = tmp_path / "plain.txt"
    plain.write_text("Just a note.\n")
    odd = tmp_path / "data.xyz"
    odd.write_text("x")
    empty_dir = tmp_path / "d"
    empty_dir.mkdir()
    for bad in (plain, odd, empty_dir, tmp_path / "missing.ann"):
        with pytest.raises(InputError) as err:
            detect_format(bad)
        assert all(f in str(err.value) for f in FORMATS) and str(bad) in str(err.value)
    with pytest.raises(InputError, match="unknown format 'xml'"):
        read_documents(p, format="xml")


@pytest.mark.parametrize("src, fmt, target", [
    (FIX / "brat", "brat", "out_brat"),
    (FIX / "pubtator" / "sample.pubtator", "pubtator", "out.pubtator"),
    (FIX / "jsonl" / "docs.jsonl", "jsonl", "out.jsonl"),
    (FIX / "bioc" / "sample.json", "bioc", "out.json"),
    (FIX / "conll" / "conll2003_like.txt", "conll", "out.conll"),
])
def test_read_write_read(tmp_path, src, fmt, target):
    docs = read_documents(src, format=fmt if fmt == "conll" else None)
    assert docs
    kw = {"include_text": True} if fmt == "jsonl" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_documents(docs, tmp_path / target, fmt, **kw)
    back = read_documents(tmp_path / target)
    assert [(d.text, d.spans) for d in back] == [(d.text, d.spans) for d in docs]
    if fmt != "conll":  # conll keeps only tokens and tags
        assert [d.id for d in back] == [d.id for d in docs]
        assert [[dict(s.attrs) for s in d.spans] for d in back] == [[dict(s.attrs) for s in d.spans] for d in docs]


def test_kwargs_reach_the_reader():
    docs = read_documents(FIX / "conll" / "conll2003_like.txt", format="conll", sentences_as_docs=True)
    assert len(docs) == 3
