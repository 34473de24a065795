"""Shared test settings: tests marked ``data`` need the shared corpora and lexicons under ``$IMNER_DATA``
(``../shared/data`` beside the checkout, where CI has them); without them they are skipped, and say why.

The build-time package (``dev/imner_dev``) is installed beside imner by ``make install-test``. Where it is not
(a virtualenv shared between checkouts, run with ``PYTHONPATH=src``), this checkout's ``dev/`` is put on the path
and its entry points (``dev/pyproject.toml``: the ``imner compare|imd-cases|build`` subcommands, the silver
corpora) are made visible by writing its metadata into a temporary folder, so the tests see this checkout's code."""

import importlib.metadata
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Some machines (this project's CI image among them) set PYTHONDONTWRITEBYTECODE=1. The suite lets Python cache
# compiled modules (and pytest its rewritten test modules), so that each xdist worker and each subprocess a test
# starts (`imner extract` in a child, Spark's Python workers, ...) does not compile them again: about 3 s of CPU
# per worker on two cores.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

DEV = Path(__file__).resolve().parents[1] / "dev"


def _dev_package_on_path() -> None:
    names = {ep.name for ep in importlib.metadata.entry_points(group="imner.commands")}
    try:
        import imner_dev

        here = Path(imner_dev.__file__).resolve().parent == DEV / "imner_dev"
    except ImportError:
        here = False
    if here and "imd-cases" in names:
        return
    if not here:
        sys.path.insert(0, str(DEV))
        sys.modules.pop("imner_dev", None)
    meta = tempfile.mkdtemp(prefix="imner-dev-meta-")
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "egg_info",
                    "--egg-base", meta], cwd=DEV, check=True, capture_output=True)
    sys.path.insert(0, meta)
    importlib.invalidate_caches()


_dev_package_on_path()

from imner.config import data_dir  # noqa: E402


#: the test files that take longest (seconds of `pytest -o addopts="" --durations=0` on the 2-core CI box, summed per
#: file: Spark ~26, build check ~13, browser ~8, hardening ~7, ...), run first. pytest-xdist hands out whole files
#: (`--dist loadfile`) in collection order (`--no-loadscope-reorder`, pyproject.toml); its default order, files with
#: more tests first, left the two longest files (2 and 3 tests) to the end, one core idle while they ran.
LONGEST_FIRST = ("test_spark.py", "test_build.py", "test_serve_browser.py", "test_hardening.py", "test_extract.py",
                 "test_spacy_component.py", "test_tagger_bilstm_onnx.py", "test_network_isolation.py", "test_fuzz.py",
                 "test_serve.py", "test_cohort_query.py", "test_cache.py", "test_annotation.py", "test_cohort_index.py",
                 "test_tagger_bilstm.py", "test_tagger_contract.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the order inside a file is kept
    root = data_dir()
    if (root / "lexicons").is_dir() and (root / "maccrobat").is_dir():
        return
    skip = pytest.mark.skip(reason=f"shared data not found under {root} (set IMNER_DATA)")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _sigint_handler_restored():
    """Each test leaves SIGINT as it found it. Some libraries a test starts install their own handler and leave it
    (SparkContext does, even after stop(); test_spark's module fixture restores it); left behind, it changes how
    later tests in the same worker see Ctrl-C (test_hardening's Ctrl-C tests)."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    yield
    if before is not None and signal.getsignal(signal.SIGINT) is not before:
        signal.signal(signal.SIGINT, before)
