"""Corpus formats: brat standoff, PubTator, CoNLL/IOB, BioC JSON and imner's JSONL, plus the extraction input
loader (:mod:`imner.io.inputs`). Every reader yields :class:`~imner.types.Document` with offsets into the decoded
text and checks each mention against it."""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("brat", "pubtator", "conll", "bioc", "jsonl")
