"""FHIR R4 Bundles from the index, one per document (type ``collection``):

* a ``Patient`` with ``gender`` where the sex is known, and an ``Observation`` of the age (LOINC 30525-0, UCUM
  ``a``) where it is stated;
* a ``DocumentReference`` for the note (the text as a UTF-8 attachment);
* a ``Condition`` per diagnosis (disease mentions grouped by concept and assertion): ``verificationStatus``
  ``refuted`` when negated, else ``unconfirmed`` (NLP output is not confirmed); codings in ICD-10-CM
  (``http://hl7.org/fhir/sid/icd-10-cm``) and DOID (``http://purl.obolibrary.org/obo/doid.owl``);
  ``clinicalStatus`` ``active`` (``resolved`` for historical mentions; none when refuted); ``evidence.detail``
  references the DocumentReference;
* an ``Observation`` per pathogen (LOINC 41852-5, the organism as an NCBI Taxonomy coding
  ``http://www.ncbi.nlm.nih.gov/taxonomy``; interpretation ``NEG`` when negated).

Every Condition and Observation from a mention carries the extension :data:`MENTION_URL` per mention, with
sub-extensions ``document`` (Reference to the DocumentReference), ``offset`` and ``length`` (into the note text),
``text``, and the assertion flags. Resources are checked with the ``fhir.resources`` R4B models as they are made.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from imner.errors import InputError

MENTION_URL = "https://imner.readthedocs.io/fhir/StructureDefinition/mention"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
DOID_SYSTEM = "http://purl.obolibrary.org/obo/doid.owl"
NCBITAXON_SYSTEM = "http://www.ncbi.nlm.nih.gov/taxonomy"
LOINC = "http://loinc.org"
DISEASES = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE")


def _rid(*parts: str) -> str:
    """A FHIR id (``[A-Za-z0-9\\-.]{1,64}``) stable for its parts."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _mention_ext(e: dict, doc_ref: str) -> dict:
    ext = [{"url": "document", "valueReference": {"reference": doc_ref}},
           {"url": "offset", "valueInteger": e["start_offset"]},
           {"url": "length", "valueInteger": e["end_offset"] - e["start_offset"]},
           {"url": "text", "valueString": e["text"]}]
    ext += [{"url": f, "valueBoolean": bool(e[f])} for f in ("negated", "uncertain", "hypothetical", "historical",
                                                              "family")]
    return {"url": MENTION_URL, "extension": ext}


def bundle_for(doc: tuple, ents: list[dict]) -> dict[str, Any]:
    doc_id, text, patient_json, indexed_at = doc
    patient = json.loads(patient_json) if patient_json else {}
    pid = _rid("patient", doc_id)
    did = _rid("document", doc_id)
    pref, dref = f"Patient/{pid}", f"DocumentReference/{did}"
    resources: list[dict] = []
    pat: dict[str, Any] = {"resourceType": "Patient", "id": pid,
                           "identifier": [{"system": "urn:imner:doc_id", "value": doc_id}]}
    if patient.get("sex") in ("female", "male"):
        pat["gender"] = patient["sex"]
    resources.append(pat)
    resources.append({
        "resourceType": "DocumentReference", "id": did, "status": "current",
        "identifier": [{"system": "urn:imner:doc_id", "value": doc_id}], "subject": {"reference": pref},
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8",
                                    "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}}]})
    if patient.get("age") is not None:
        resources.append({
            "resourceType": "Observation", "id": _rid("age", doc_id), "status": "preliminary",
            "code": {"coding": [{"system": LOINC, "code": "30525-0", "display": "Age"}]},
            "subject": {"reference": pref},
            "valueQuantity": {"value": float(patient["age"]), "unit": "years", "system": "http://unitsofmeasure.org",
                              "code": "a"},
            "derivedFrom": [{"reference": dref}]})
    groups: dict[tuple, list[dict]] = {}
    for e in ents:
        if e["label"] in DISEASES or e["label"] == "PATHOGEN":
            key = (e["label"] == "PATHOGEN", e["concept_id"] or e["text"].lower(), bool(e["negated"]),
                   bool(e["historical"]))
            groups.setdefault(key, []).append(e)
    for (is_pathogen, key, negated, historical), ms in groups.items():
        first = ms[0]
        attrs = json.loads(first["attrs"] or "{}")
        exts = [_mention_ext(m, dref) for m in ms]
        rid = _rid("pathogen" if is_pathogen else "condition", doc_id, key, str(negated), str(historical))
        display = first["concept_name"] or first["text"]
        if not is_pathogen:
            coding = [{"system": ICD10CM_SYSTEM, "code": c} for c in (first["icd10cm"] or [])]
            if attrs.get("doid"):
                coding.append({"system": DOID_SYSTEM, "code": attrs["doid"], "display": display})
            cond: dict[str, Any] = {
                "resourceType": "Condition", "id": rid, "extension": exts,
                "verificationStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "refuted" if negated else "unconfirmed"}]},
                "code": {**({"coding": coding} if coding else {}), "text": first["text"]},
                "subject": {"reference": pref}, "evidence": [{"detail": [{"reference": dref}]}]}
            if not negated:
                cond["clinicalStatus"] = {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved" if historical else "active"}]}
            resources.append(cond)
        else:
            taxon = attrs.get("ncbitaxon") or (first["concept_id"] if (first["concept_id"] or "").startswith(
                "NCBITaxon:") else None)
            value: dict[str, Any] = {"text": first["text"]}
            if taxon:
                value["coding"] = [{"system": NCBITAXON_SYSTEM, "code": taxon.split(":", 1)[1], "display": display}]
            obs: dict[str, Any] = {
                "resourceType": "Observation", "id": rid, "extension": exts, "status": "preliminary",
                "code": {"coding": [{"system": LOINC, "code": "41852-5",
                                     "display": "Microorganism or agent identified in Specimen"}],
                         "text": "pathogen named in the note"},
                "subject": {"reference": pref}, "valueCodeableConcept": value, "derivedFrom": [{"reference": dref}]}
            if negated:
                obs["interpretation"] = [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "NEG"}]}]
            resources.append(obs)
    bundle = {"resourceType": "Bundle", "id": _rid("bundle", doc_id), "type": "collection",
              "timestamp": indexed_at.isoformat(timespec="seconds") + "Z",
              "entry": [{"fullUrl": f"urn:uuid:{_uuid(r['id'])}", "resource": r} for r in resources]}
    return bundle


def _uuid(hex32: str) -> str:
    h = hex32
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def validate(bundle: dict) -> None:
    """Check a Bundle and each resource with the fhir.resources R4B models (pydantic)."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        r = entry["resource"]
        get_fhir_model_class(r["resourceType"]).model_validate(r)


def bundles(db, query: str | None = None, *, check: bool = True):
    from imner.cohort.store import connect

    con = connect(db, read_only=True)
    try:
        ids = None
        if query:
            from imner.cohort.search import run_query

            ids = run_query(con, query).doc_ids
        where = "" if ids is None else "WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))"
        docs = con.execute(f"SELECT doc_id, text, patient, indexed_at FROM documents {where} ORDER BY doc_id",
                           [] if ids is None else [ids]).fetchall()
        cur = con.execute(f"SELECT * FROM entities {where} ORDER BY doc_id, start_offset, idx",
                          [] if ids is None else [ids])
        cols = [c[0] for c in cur.description]
        by_doc: dict[str, list[dict]] = {}
        for r in cur.fetchall():
            d = dict(zip(cols, r))
            by_doc.setdefault(d["doc_id"], []).append(d)
    finally:
        con.close()
    for doc in docs:
        b = bundle_for(doc, by_doc.get(doc[0], []))
        if check:
            validate(b)
        yield doc[0], b


def export_fhir(db, output: str | Path, *, query: str | None = None) -> int:
    out = Path(output)
    n = 0
    if out.suffix.lower() in (".json", ".ndjson"):
        tmp = out.with_name(out.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            if out.suffix.lower() == ".json":
                fh.write("[\n")
            for _, b in bundles(db, query):
                if out.suffix.lower() == ".json":
                    fh.write((",\n" if n else "") + json.dumps(b, ensure_ascii=False))
                else:
                    fh.write(json.dumps(b, ensure_ascii=False) + "\n")
                n += 1
            if out.suffix.lower() == ".json":
                fh.write("\n]\n")
        tmp.replace(out)
        return n
    if out.exists() and not out.is_dir():
        raise InputError("expected FILE.json, FILE.ndjson or a folder", source=str(out))
    out.mkdir(parents=True, exist_ok=True)
    for doc_id, b in bundles(db, query):
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in doc_id) or "doc"
        (out / f"{name}.{b['id'][:8]}.json").write_text(json.dumps(b, ensure_ascii=False, indent=1),
                                                         encoding="utf-8")
        n += 1
    return n
