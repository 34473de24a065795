"""Shared test settings: tests marked ``data`` need the shared corpora and lexicons under ``$IMNER_DATA``
(``../shared/data`` beside the checkout, where CI has them); without them they are skipped, and say why."""

import pytest

from imner.config import data_dir


def pytest_collection_modifyitems(config, items):
    root = data_dir()
    if (root / "lexicons").is_dir() and (root / "maccrobat").is_dir():
        return
    skip = pytest.mark.skip(reason=f"shared data not found under {root} (set IMNER_DATA)")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)
