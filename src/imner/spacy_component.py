"""imner as a spaCy pipeline component (the ``spacy`` extra): ``nlp.add_pipe("imner")``.

Registered through spaCy's entry points (``[project.entry-points.spacy_factories]`` in pyproject.toml), so an
installed imner needs no import::

    import spacy
    nlp = spacy.blank("en")            # or spacy.load("en_core_web_sm"), any English pipeline
    nlp.add_pipe("imner")              # config: model, assertion, normalize, patient, spans_key, set_ents, ...
    doc = nlp("A 34-year-old woman with SLE had no fever.")
    [(e.text, e.label_, e._.negated, e._.codes) for e in doc.ents]
    doc._.patient                      # {"age": 34.0, "age_group": "adult", "sex": "female", ...}

What it sets, from imner's own pipeline run on ``doc.text`` (so the offsets are ``imner extract``'s):

* ``doc.spans[spans_key]`` (default ``"imner"``): every entity, always;
* ``doc.ents``: the entities too, when ``set_ents`` (default) and none of them overlaps an entity already in
  ``doc.ents`` (e.g. from en_core_web_sm's NER); with overlaps ``doc.ents`` is left alone, unless
  ``overwrite_ents`` replaces the overlapping ones;
* ``Span._.negated / uncertain / hypothetical / historical / family`` (bool; None for classes imner does not
  assert, e.g. LAB_VALUE), ``Span._.experiencer`` and
  ``Span._.section`` (as imner's assertion step gives them), ``Span._.codes`` (``{"doid": ..., "icd10cm": [...],
  "hpo": ..., "ncbitaxon": ..., "drugbank": ...}`` as present), ``Span._.category`` / ``subcategory``,
  ``Span._.imner`` (the whole ``imner extract`` entity record), ``Span.kb_id_`` (the concept id);
* ``Doc._.patient``: the patient block (age, age group, sex, evidence offsets).

Where an entity boundary falls inside a spaCy token (``"HIV-1"`` tokenized as one token when imner finds
``HIV``), the token is split at the boundary (``doc.retokenize().split``), so every entity's ``start_char`` /
``end_char`` equal imner's offsets exactly. Put the component early (right after the tokenizer) when a later
component depends on tokens.

``nlp.pipe`` runs imner in batches of ``batch_size`` documents (default 16, like ``imner extract``); with
``n_process`` each process loads the model once (the component pickles without it).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan
from spacy.util import minibatch

ASSERTIONS = ("negated", "uncertain", "hypothetical", "historical", "family")
CODE_KEYS = ("doid", "icd10cm", "hpo", "ncbitaxon", "drugbank")


def _register_extensions() -> None:
    for name in (*ASSERTIONS, "experiencer", "section", "codes", "category", "subcategory", "imner"):
        if not SpacySpan.has_extension(name):
            SpacySpan.set_extension(name, default=None)
    if not Doc.has_extension("patient"):
        Doc.set_extension("patient", default=None)


_register_extensions()


class ImnerComponent:
    """The component (see the module doc). The imner pipeline loads on first use."""

    def __init__(self, nlp: Language, name: str, *, model: str | None, assertion: bool, normalize: bool,
                 patient: bool, spans_key: str, set_ents: bool, overwrite_ents: bool, batch_size: int) -> None:
        self.name = name
        self.model, self.assertion, self.normalize, self.patient = model, assertion, normalize, patient
        self.spans_key, self.set_ents, self.overwrite_ents = spans_key, set_ents, overwrite_ents
        self.batch_size = batch_size
        self._pipeline: Any = None

    # the pipeline (onnxruntime sessions) does not pickle: nlp.pipe(n_process=N) loads it again in each process
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pipeline": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        _register_extensions()
        self.__dict__.update(state)

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            from imner.pipeline import load_pipeline

            self._pipeline = load_pipeline(self.model, assertion=self.assertion, normalize=self.normalize,
                                           patient=self.patient)
        return self._pipeline

    def __call__(self, doc: Doc) -> Doc:
        return self._annotate([doc])[0]

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(stream, size=self.batch_size):
            yield from self._annotate(list(batch))

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        from imner.io.jsonl import document_to_json
        from imner.types import Document

        results = self.pipeline([Document(str(i), doc.text) for i, doc in enumerate(docs)])
        for doc, res in zip(docs, results):  # the record `imner extract` writes as a JSONL line
            self._set(doc, document_to_json(res, include_text=False, include_meta=False))
        return docs

    def _set(self, doc: Doc, record: dict[str, Any]) -> None:
        entities = record["entities"]
        _split_at(doc, {b for e in entities for b in (e["start"], e["end"])})
        spans = []
        for ent in entities:
            span = doc.char_span(ent["start"], ent["end"], label=ent["label"], kb_id=ent.get("concept_id") or "")
            if span is None:  # cannot happen after _split_at; fail loudly rather than drop an entity
                raise ValueError(f"imner entity [{ent['start']}, {ent['end']}) does not align with the tokens")
            for name in ASSERTIONS:
                span._.set(name, ent.get(name))  # None where imner does not assert the mention's class
            span._.experiencer = ent.get("experiencer")
            span._.section = ent.get("section")
            span._.codes = {k: ent[k] for k in CODE_KEYS if ent.get(k) is not None}
            span._.category = ent.get("category")
            span._.subcategory = ent.get("subcategory")
            span._.imner = ent
            spans.append(span)
        doc.spans[self.spans_key] = spans
        doc._.patient = record.get("patient")
        if self.set_ents:
            existing = list(doc.ents)
            clash = [e for e in existing if any(e.start < s.end and s.start < e.end for s in spans)]
            if not clash:
                doc.ents = sorted(existing + spans, key=lambda s: s.start)
            elif self.overwrite_ents:
                keep = [e for e in existing if e not in clash]
                doc.ents = sorted(keep + spans, key=lambda s: s.start)


def _split_at(doc: Doc, boundaries: set[int]) -> None:
    """Split every token that one of the character offsets ``boundaries`` falls strictly inside."""
    cuts = []
    for token in doc:
        inner = sorted(b - token.idx for b in boundaries if token.idx < b < token.idx + len(token))
        if inner:
            cuts.append((token, inner))
    if not cuts:
        return
    with doc.retokenize() as retokenizer:
        for token, inner in cuts:
            edges = [0, *inner, len(token)]
            orths = [token.text[a:b] for a, b in zip(edges, edges[1:])]
            first_head = token.head if token.head.i != token.i else (token, 0)
            retokenizer.split(token, orths, heads=[first_head] + [(token, 0)] * (len(orths) - 1))


@Language.factory("imner", default_config={
    "model": None, "assertion": True, "normalize": True, "patient": True, "spans_key": "imner",
    "set_ents": True, "overwrite_ents": False, "batch_size": 16},
    assigns=["doc.ents", "doc.spans", "span._.negated", "span._.uncertain", "span._.hypothetical", "span._.historical",
             "span._.family", "span._.experiencer", "span._.section",
             "span._.codes", "span._.category", "doc._.patient"])
def make_imner(nlp: Language, name: str, model: str | None, assertion: bool, normalize: bool, patient: bool,
               spans_key: str, set_ents: bool, overwrite_ents: bool, batch_size: int) -> ImnerComponent:
    return ImnerComponent(nlp, name, model=model, assertion=assertion, normalize=normalize, patient=patient,
                          spans_key=spans_key, set_ents=set_ents, overwrite_ents=overwrite_ents,
                          batch_size=batch_size)
