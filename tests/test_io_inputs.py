"""Extraction input loader: every decoding and path case."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from imner.errors import InputError
from imner.io.inputs import EmptyInputWarning, SkippedInputWarning, count_inputs, iter_inputs, read_text_file

FIX = Path(__file__).parent / "fixtures" / "io" / "inputs"


def test_text_file_id_is_stem_and_crlf_kept():
    doc = read_text_file(FIX / "folder" / "a.txt")
    assert doc.id == "a" and doc.text == "HIV infection.\r\nTreated.\r\n" and dict(doc.meta) == {}
    assert [d.id for d in iter_inputs(FIX / "folder" / "a.txt")] == ["a"]
    assert count_inputs(FIX / "folder" / "a.txt") == 1


def test_folder_sorted_not_recursive():
    with pytest.warns(SkippedInputWarning, match="read 2 .txt files, skipped 2 entries: 1 subfolder, 1 file of "
                                                 "another type"):
        docs = list(iter_inputs(FIX / "folder"))
    assert [d.id for d in docs] == ["a", "b"]  # notes.md and sub/c.txt are not read
    assert count_inputs(FIX / "folder") == 2


def test_folder_without_txt(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text("deep")
    with pytest.raises(InputError, match="no .txt files.*not searched recursively"):
        list(iter_inputs(tmp_path))


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError, match="not found") as err:
        list(iter_inputs(missing))
    assert str(missing) in str(err.value) and ".jsonl" in str(err.value)
    with pytest.raises(InputError, match="not found"):
        read_text_file(missing)


def test_unsupported_suffix(tmp_path):
    p = tmp_path / "corpus.ann"
    p.write_text("T1\tX 0 1\ta\n")
    with pytest.raises(InputError, match="unsupported input type '.ann'"):
        list(iter_inputs(p))


def test_bom_stripped_and_recorded(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfSepsis.")
    doc = read_text_file(p)
    assert doc.text == "Sepsis." and doc.meta["bom"] is True


def test_non_utf8_names_file_and_byte_offset(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Caf\u00e9 au lait spots".encode("latin-1"))
    with pytest.raises(InputError) as err:
        read_text_file(p)
    msg = str(err.value)
    assert "latin1.txt" in msg and "byte offset 3" in msg and "UTF-8" in msg and "iconv" in msg


def test_binary_refused(tmp_path):
    p = tmp_path / "scan.txt"
    p.write_bytes(b"%PDF-1.4\x00\x01\x02binary")
    with pytest.raises(InputError, match="looks binary"):
        read_text_file(p)
    p.write_bytes("UTF-16 text".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        read_text_file(p)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n"])
def test_empty_file_gives_empty_document_and_warns(tmp_path, content):
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    with pytest.warns(EmptyInputWarning, match="empty"):
        doc = read_text_file(p)
    assert doc.id == "empty" and doc.text == content.decode() and not doc.spans


def test_five_megabyte_single_line(tmp_path):
    line = ("Patient with fever and Staphylococcus aureus bacteremia; " * 100_000)[:5_000_000] + "END"
    p = tmp_path / "big.txt"
    p.write_text(line, encoding="utf-8")
    doc = read_text_file(p)
    assert len(doc.text) == 5_000_003 and doc.text.endswith("END") and "\n" not in doc.text


def test_jsonl_input(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "x", "text": "Fever."}\n\n{"text": ""}\n', encoding="utf-8")
    assert count_inputs(p) == 2
    with pytest.warns(EmptyInputWarning):
        docs = list(iter_inputs(p))
    assert [(d.id, d.text) for d in docs] == [("x", "Fever."), ("in:3", "")]
    p.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 1.*text"):
        list(iter_inputs(p))


def test_stdin_text_and_jsonl():
    (doc,) = iter_inputs("-", stdin=io.BytesIO(b"Lupus nephritis.\r\n"))
    assert doc.id == "stdin" and doc.text == "Lupus nephritis.\r\n"
    jsonl = b'\n{"id": "a", "text": "x"}\r\n{"text": "y"}\n'
    docs = list(iter_inputs("-", stdin=io.BytesIO(jsonl), input_format="jsonl"))
    assert [(d.id, d.text) for d in docs] == [("a", "x"), ("stdin:3", "y")]
    # issue 10 item 9: a note that starts with "{" is not silently taken for JSONL
    with pytest.raises(InputError, match="--input-format jsonl or --input-format text"):
        list(iter_inputs("-", stdin=io.BytesIO(jsonl)))
    (doc,) = iter_inputs("-", stdin=io.BytesIO(b"{redacted} Fever."), input_format="text")
    assert doc.text == "{redacted} Fever."
    with pytest.raises(InputError, match="<stdin>.*byte offset 1"):
        list(iter_inputs("-", stdin=io.BytesIO(b"a\xff")))
    with pytest.warns(EmptyInputWarning):
        (doc,) = iter_inputs("-", stdin=io.BytesIO(b""))
    assert doc.text == ""
    assert count_inputs("-") is None


def test_no_warning_for_normal_text(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Fever.", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(iter_inputs(tmp_path))
