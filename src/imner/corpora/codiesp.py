"""CodiEsp English case reports (``codiesp_en_cases/codiesp_en_cases.jsonl``): 500 train and 250 dev documents
coded with ICD-10-CM diagnosis codes by professional coders, and 2,749 uncoded ``background`` documents
(machine-translated from Spanish; CC BY 4.0; see the folder's PROVENANCE.md).

No entity spans: documents carry ``meta["icd10cm_codes"]`` (the document's diagnosis codes, dotless upper case as
distributed, e.g. ``B20``, ``A419``) and ``meta["codiesp_split"]``. Used by ``benchmarks/icd_codes.py`` (document-level
ICD-10-CM retrieval) and as an exclusion list in training configs (``[data] exclude``): CodiEsp dev is the
ICD-coding evaluation and is never trained on.
"""

from __future__ import annotations

import json
from pathlib import Path

from imner.corpora import Corpus, Loaded, register, require
from imner.errors import FormatError
from imner.types import Document

FILE = "codiesp_en_cases.jsonl"


def load_split(root: Path, split: str) -> Loaded:
    path = require(root / FILE)
    docs: list[Document] = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if rec["split"] != split:
                    continue
                text = rec["text"]
                codes = [str(c).upper().replace(".", "") for c in rec.get("icd10cm_codes") or ()]
                docs.append(Document(id=str(rec["id"]), text=text, spans=(),
                                     meta={"codiesp_split": split, "icd10cm_codes": codes}))
            except (ValueError, KeyError, TypeError) as e:
                raise FormatError(f"expected a JSON object with id, text and split: {e}", source=str(path),
                                  line=i) from None
    return Loaded(docs)


CODIESP = register(Corpus(
    name="codiesp",
    description="CodiEsp clinical case reports, English machine translation: 500 train / 250 dev ICD-10-CM-coded "
                "documents (meta.icd10cm_codes) and 2,749 uncoded background documents; no entity spans.",
    licence="CC BY 4.0",
    path="codiesp_en_cases",
    splits=("train", "dev", "background"),
    labels=(),
    annotates=frozenset(),
    format="JSONL",
    loader=load_split,
))
