"""Downloads of the web app: extraction results back to ``imner extract``'s JSONL lines or to BRAT standoff,
with the readers' and writers' own checks (each mention must equal its offsets in the text)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Iterable

from imner.types import Document


def _documents(items: Iterable[Any]) -> list[Document]:
    from imner.io.jsonl import parse_document_json

    docs = []
    for i, item in enumerate(items):
        obj = {"id": item.id, "text": item.text, "entities": item.entities}
        if item.patient is not None:
            obj["patient"] = item.patient
        docs.append(parse_document_json(json.dumps(obj), source=f"document {i}"))
    return docs


def to_jsonl(items: Iterable[Any]) -> bytes:
    """The JSONL of ``imner extract`` (without text), one line per document."""
    from imner.commands.extract import document_record

    return "".join(json.dumps(document_record(d), ensure_ascii=False) + "\n" for d in _documents(items)).encode()


def to_brat_zip(items: Iterable[Any]) -> bytes:
    """A zip of ``<id>.txt`` and ``<id>.ann`` per document, as ``imner extract --format brat`` writes them
    (the patient's age and sex evidence as ``Age`` / ``Sex`` spans)."""
    import tempfile
    from pathlib import Path

    from imner.commands.extract import patient_spans
    from imner.io.brat import write_brat

    docs = _documents(items)
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="imner-brat-") as tmp, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        write_brat([d.with_spans(list(d.spans) + patient_spans(d)) for d in docs], tmp)
        for path in sorted(Path(tmp).iterdir()):
            zf.write(path, path.name)
    return buf.getvalue()
