"""Taggers: one protocol (:mod:`imner.taggers.base`), one module per family."""

from imner.taggers.base import Tagger, available, create, load_tagger, register

__all__ = ["Tagger", "available", "create", "load_tagger", "register"]
