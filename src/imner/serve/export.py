"""Downloads of the web app: extraction results back to ``imner extract``'s JSONL lines or to BRAT standoff,
with the readers' and writers' own checks (each mention must equal its offsets in the text)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Iterable

from imner.types import Document


def documents(items: Iterable[Any]) -> list[Document]:
    from imner.io.jsonl import parse_document_json

    docs = []
    for i, item in enumerate(items):
        obj = {"id": item.id, "text": item.text, "entities": item.entities}
        if item.patient is not None:
            obj["patient"] = item.patient
        docs.append(parse_document_json(json.dumps(obj), source=f"document {i}"))
    return docs


def to_jsonl(items: Iterable[Any]) -> bytes:
    """The JSONL of ``imner extract`` (without text), one line per document, by its own record function."""
    from imner.io.jsonl import jsonl_record

    return "".join(jsonl_record(d) for d in documents(items)).encode()


def to_brat_zip(items: Iterable[Any]) -> bytes:
    """A zip of the files ``imner extract --format brat`` writes for each document (``<id>.txt``, ``<id>.ann`` and
    ``<id>.patient.json``), by its own record function."""
    from imner.io.brat import document_files

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in documents(items):
            for name, content in document_files(doc):
                zf.writestr(name, content)
    return buf.getvalue()
