"""The entity record: the same keys on every entity, whatever its class and whichever steps ran.

Every entity :mod:`imner.pipeline` returns (and so every ``imner extract`` JSONL entity, the server's answers and
brat attributes) carries every key of :func:`entity_keys`:

* the span: ``start``, ``end``, ``label``, ``text``, ``score`` (and ``fragments`` for discontinuous spans);
* assertion (:data:`imner.context.ASSERTION_KEYS`: the flags ``negated``, ``uncertain``, ``hypothetical``,
  ``historical``, ``family``, and ``experiencer``, ``section``): values on the classes the assertion step judges;
  ``null`` on the modifier classes it does not (:data:`imner.context.MODIFIER_LABELS`: ANATOMY, LAB_VALUE, SEVERITY,
  TEMPORAL) and on every entity when the step is switched off (``--no-assertion``);
* codes (:data:`imner.normalize.normalizer.OUTPUT_KEYS`): ``code_status`` is ``"mapped"``, ``"ambiguous"`` or
  ``"unmapped"`` on the classes the normaliser codes (diseases, SIGN_SYMPTOM, PATHOGEN, MEDICATION, SEVERITY) and
  ``null`` on the others (ANATOMY, DIAGNOSTIC_PROCEDURE, LAB_VALUE, TEMPORAL, THERAPEUTIC_PROCEDURE) and when the
  step is off (``--no-normalize``); every other code key is ``null`` where it does not apply.

So ``null`` means "not applicable or not computed", never "false". Keys a tagger adds of its own (the dictionary
tagger's ``concept_id`` candidates, say) come after these.
"""

from __future__ import annotations

from functools import lru_cache

from imner.types import Document, Span

#: code keys in the order records list them (any further normaliser key follows, sorted)
_CODE_ORDER = ("code_status", "concept_id", "concept_name", "doid", "icd10cm", "hpo", "ncbitaxon", "drugbank",
               "category", "subcategory", "kind", "drug_class", "match", "abbreviation_of", "via", "resolved_by",
               "cross_label", "candidates")


@lru_cache(maxsize=1)
def assertion_keys() -> tuple[str, ...]:
    import imner.context as context

    return tuple(getattr(context, "ASSERTION_KEYS", context.FLAGS))


@lru_cache(maxsize=1)
def code_keys() -> tuple[str, ...]:
    from imner.normalize.normalizer import OUTPUT_KEYS

    return tuple(k for k in _CODE_ORDER if k in OUTPUT_KEYS) + tuple(sorted(set(OUTPUT_KEYS) - set(_CODE_ORDER)))


def entity_keys() -> tuple[str, ...]:
    """The attribute keys every entity record carries (besides the span fields)."""
    return assertion_keys() + code_keys()


def complete_span(span: Span) -> Span:
    """``span`` with every key of :func:`entity_keys` present (``None`` where it had none)."""
    keys = entity_keys()
    if all(k in span.attrs for k in keys):
        return span
    attrs = {k: span.attrs.get(k) for k in keys}
    attrs.update((k, v) for k, v in span.attrs.items() if k not in attrs)
    return Span(span.start, span.end, span.label, span.score, attrs, span.fragments)


def complete_document(doc: Document) -> Document:
    """``doc`` whose spans all carry every record key."""
    return doc.with_spans(complete_span(s) for s in doc.spans)


__all__ = ["assertion_keys", "code_keys", "complete_document", "complete_span", "entity_keys"]
