"""Case summaries for decision support: one structured view of an indexed report.

* the patient (age, age group, sex, with evidence);
* active diagnoses: immune-mediated and infectious disease mentions that are affirmed, about the patient and
  current, grouped by concept, with DOID and ICD-10-CM codes; other affirmed conditions apart;
* pathogens, each with the diagnoses stated in the same sentence;
* immunosuppressive and antimicrobial medications (by the DrugBank drug classes of the normalizer), others apart;
* procedures (diagnostic, therapeutic);
* negated, uncertain (or hypothetical), historical and family findings, listed apart.
"""

from __future__ import annotations

import html
import json
from typing import Any

from imner.errors import InputError

IMMUNOSUPPRESSIVE = frozenset({"corticosteroid", "conventional DMARD", "JAK inhibitor", "TNF inhibitor",
                               "calcineurin inhibitor", "immunosuppressant", "interleukin inhibitor",
                               "monoclonal antibody", "fusion protein", "immunoglobulin"})
_ANTIMICROBIAL_WORDS = ("antibiotic", "antifungal", "antiviral", "antimalarial", "antiprotozoal", "anthelmintic",
                        "antituberculosis")


def drug_group(drug_class: str | None) -> str:
    if not drug_class:
        return "other"
    if drug_class in IMMUNOSUPPRESSIVE:
        return "immunosuppressive"
    if any(w in drug_class for w in _ANTIMICROBIAL_WORDS):
        return "antimicrobial"
    return "other"


def _assertion(e: dict) -> list[str]:
    return [f for f in ("negated", "uncertain", "hypothetical", "historical", "family") if e.get(f)]


def summarize(db, doc_id: str) -> dict[str, Any]:
    from imner.cohort.store import connect

    con = connect(db, read_only=True)
    try:
        doc = con.execute("SELECT doc_id, text, source, model_id, model_version, meta, patient FROM documents "
                          "WHERE doc_id = ?", [doc_id]).fetchone()
        if doc is None:
            some = [r[0] for r in con.execute("SELECT doc_id FROM documents ORDER BY doc_id LIMIT 5").fetchall()]
            from imner.cohort.language import nearest

            near = nearest(doc_id, [r[0] for r in con.execute("SELECT doc_id FROM documents").fetchall()])
            raise InputError(f"no document {doc_id!r} in the index"
                             + (f"; nearest: {', '.join(near)}" if near else f"; ids look like {', '.join(some)}"),
                             source=str(db))
        cur = con.execute("SELECT * FROM entities WHERE doc_id = ? ORDER BY start_offset", [doc_id])
        cols = [c[0] for c in cur.description]
        ents = [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()
    _, text, source, model_id, model_version, meta, patient = doc

    def mention(e: dict) -> dict:
        return {"start": e["start_offset"], "end": e["end_offset"], "text": e["text"]}

    def group(items: list[dict]) -> list[dict]:
        out: dict[str, dict] = {}
        for e in items:
            key = e["concept_id"] or e["text"].lower()
            g = out.get(key)
            if g is None:
                g = out[key] = {"name": e["concept_name"] or e["text"], "label": e["label"],
                                "concept_id": e["concept_id"], "mentions": []}
                if e["label"] in ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE"):
                    attrs = json.loads(e["attrs"] or "{}")
                    g.update(doid=attrs.get("doid"), icd10cm=list(e["icd10cm"] or []), category=e["category"],
                             subcategory=e["subcategory"])
                if e["label"] == "PATHOGEN":
                    g["kind"] = e["kind"]
                if e["label"] == "MEDICATION":
                    g["drug_class"] = e["drug_class"]
            g["mentions"].append(mention(e))
        return list(out.values())

    active = [e for e in ents if not _assertion(e)]
    diseases = [e for e in active if e["label"] in ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE")]
    pathogens = group([e for e in active if e["label"] == "PATHOGEN"])
    for p in pathogens:
        sents = {(e["sentence_start"]) for e in active if e["label"] == "PATHOGEN"
                 and (e["concept_id"] or e["text"].lower()) == (p["concept_id"] or p["mentions"][0]["text"].lower())}
        linked = group([e for e in diseases if e["sentence_start"] in sents])
        p["linked_diagnoses"] = [{"name": g["name"], "concept_id": g["concept_id"]} for g in linked]
    meds = [e for e in active if e["label"] == "MEDICATION"]
    return {
        "doc_id": doc_id, "source": source, "model": f"{model_id} ({model_version})",
        "meta": json.loads(meta) if meta else {},
        "patient": json.loads(patient) if patient else None,
        "active_diagnoses": group(diseases),
        "other_conditions": group([e for e in active if e["label"] == "OTHER_DISEASE"]),
        "pathogens": pathogens,
        "medications": {g: group([e for e in meds if drug_group(e["drug_class"]) == g])
                        for g in ("immunosuppressive", "antimicrobial", "other")},
        "procedures": group([e for e in active if e["label"] in ("DIAGNOSTIC_PROCEDURE", "THERAPEUTIC_PROCEDURE")]),
        "negated": group([e for e in ents if e["negated"]]),
        "uncertain": group([e for e in ents if (e["uncertain"] or e["hypothetical"]) and not e["negated"]]),
        "historical": group([e for e in ents if e["historical"] and not e["negated"]]),
        "family": group([e for e in ents if e["family"] and not e["negated"]]),
        "text_length": len(text),
    }


_CSS = """body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:2em}
.card{background:#fff;max-width:860px;margin:auto;border-radius:10px;box-shadow:0 1px 4px #0002;padding:1.5em 2em}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1em;margin:1.2em 0 .3em;color:#333;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.85em}ul{margin:.2em 0;padding-left:1.2em}li{margin:.15em 0}
code{background:#eef;padding:0 .3em;border-radius:3px;font-size:.85em}.off{color:#999;font-size:.8em}
.none{color:#999}.pill{display:inline-block;background:#e8f0fe;border-radius:9px;padding:0 .5em;margin-left:.3em;
font-size:.8em}"""


def _items(groups: list[dict], extra=None) -> str:
    if not groups:
        return "<p class='none'>none</p>"
    lis = []
    for g in groups:
        codes = [c for c in [g.get("concept_id")] if c] + [f"ICD-10-CM {c}" for c in g.get("icd10cm") or []]
        bits = "".join(f" <code>{html.escape(c)}</code>" for c in codes)
        for k in ("subcategory", "kind", "drug_class"):
            if g.get(k):
                bits += f"<span class='pill'>{html.escape(str(g[k]))}</span>"
        offs = ", ".join(f"[{m['start']}:{m['end']}]" for m in g["mentions"])
        more = extra(g) if extra else ""
        lis.append(f"<li><b>{html.escape(g['name'])}</b>{bits} <span class='off'>{offs}</span>{more}</li>")
    return "<ul>" + "".join(lis) + "</ul>"


def render_html(s: dict[str, Any]) -> str:
    p = s.get("patient") or {}
    age = f"{p['age']:g} years" if p.get("age") is not None else "age not stated"
    who = f"{age}, {p.get('age_group') or 'age group unknown'}, {p.get('sex') or 'sex not stated'}"

    def linked(g):
        ds = g.get("linked_diagnoses") or []
        return (" &rarr; " + ", ".join(html.escape(d["name"]) for d in ds)) if ds else ""

    sections = [
        ("Active immune-mediated and infectious diagnoses", _items(s["active_diagnoses"])),
        ("Pathogens (and diagnoses in the same sentence)", _items(s["pathogens"], linked)),
        ("Immunosuppressive medications", _items(s["medications"]["immunosuppressive"])),
        ("Antimicrobial medications", _items(s["medications"]["antimicrobial"])),
        ("Other medications", _items(s["medications"]["other"])),
        ("Other conditions", _items(s["other_conditions"])),
        ("Procedures", _items(s["procedures"])),
        ("Negated", _items(s["negated"])),
        ("Uncertain", _items(s["uncertain"])),
        ("Historical", _items(s["historical"])),
        ("Family history", _items(s["family"])),
    ]
    body = "".join(f"<h2>{html.escape(t)}</h2>{c}" for t, c in sections)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(s['doc_id'])}</title>"
            f"<style>{_CSS}</style></head><body><div class='card'><h1>{html.escape(s['doc_id'])}</h1>"
            f"<div class='meta'>Patient: {html.escape(who)} &middot; source {html.escape(str(s['source']))} &middot; "
            f"{html.escape(s['model'])} &middot; offsets index the document text; NLP output, not confirmed</div>"
            f"{body}</div></body></html>")
