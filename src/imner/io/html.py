"""A self-contained HTML page that shows documents with their entities highlighted (one colour per class,
the attributes in a tooltip, negated mentions struck through, uncertain ones dashed, hypothetical ones dotted)
and the patient block."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Iterable, TextIO

from imner.schema import LABELS, color
from imner.types import Document

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.9;color:#222}
h2{font-size:1.1rem;border-bottom:1px solid #ddd}
.doc{white-space:pre-wrap;margin-bottom:2rem}
mark{padding:0 .15em;border-radius:.25em;border:1px solid rgba(0,0,0,.15)}
mark .l{font-size:.6em;font-weight:600;margin-left:.3em;opacity:.75;vertical-align:super}
mark.negated{text-decoration:line-through}
mark.uncertain{border-style:dashed;border-color:#333}
mark.hypothetical{border-style:dotted;border-color:#333;border-width:2px}
.legend span{display:inline-block;margin:.1em .3em;padding:0 .4em;border-radius:.25em;font-size:.8em}
.patient{font-size:.9em;color:#555}
"""


def _mark(doc: Document, span) -> str:
    attrs = {k: v for k, v in span.attrs.items() if v not in (None, False, [], {})}
    tip = html.escape(json.dumps({"label": span.label, "score": span.score, **attrs}, ensure_ascii=False,
                                 default=str), quote=True)
    classes = " ".join(c for c in ("negated", "uncertain", "hypothetical") if span.attrs.get(c))
    return (f'<mark class="{classes}" style="background:{color(span.label)}55" title="{tip}">'
            f'{html.escape(doc.text[span.start:span.end])}<span class="l">{span.label}</span></mark>')


def render_document(doc: Document) -> str:
    parts, pos = [], 0
    for span in sorted(doc.spans, key=lambda s: (s.start, -s.end)):
        if span.start < pos:  # overlapping spans (not produced by imner taggers): show the first only
            continue
        parts.append(html.escape(doc.text[pos:span.start]))
        parts.append(_mark(doc, span))
        pos = span.end
    parts.append(html.escape(doc.text[pos:]))
    patient = doc.meta.get("patient")
    head = f"<h2>{html.escape(doc.id)}</h2>"
    if patient:
        head += (f'<div class="patient">patient: age {html.escape(str(patient.get("age")))} '
                 f'({html.escape(str(patient.get("age_group")))}), sex {html.escape(str(patient.get("sex")))}</div>')
    return f'{head}<div class="doc">{"".join(parts)}</div>'


def page_start(title: str = "imner") -> str:
    """The page up to the first document: head, style, legend."""
    legend = "".join(f'<span style="background:{lab.color}55">{lab.name}</span>' for lab in LABELS)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><div class='legend'>{legend} · struck through: negated · "
            "dashed: uncertain · dotted: hypothetical · hover for codes</div>\n")


def html_record(doc: Document) -> str:
    """One document's part of the page."""
    return render_document(doc) + "\n"


def page_end() -> str:
    return "</body></html>\n"


def write_html(docs: Iterable[Document], out: TextIO | str | Path, title: str = "imner") -> int:
    """Write the page to an open text file or a path; returns the number of documents. Streams one document at a
    time."""
    if not hasattr(out, "write"):
        with open(out, "w", encoding="utf-8", newline="\n") as fh:
            return write_html(docs, fh, title)
    out.write(page_start(title))
    n = 0
    for doc in docs:
        out.write(html_record(doc))
        out.flush()
        n += 1
    out.write(page_end())
    return n
