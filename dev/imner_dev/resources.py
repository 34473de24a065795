"""Every generated file the project commits, and the one way to regenerate or check them (``imner build``).

========================  ===========================================================  ==========================
resource                  committed file(s)                                            made from
========================  ===========================================================  ==========================
``lexicon``               ``src/imner/resources/lexicon/index.json.gz`` (packaged)     ``$IMNER_DATA/lexicons`` + the curated TSVs
                          and ``corpus_terms.tsv.gz`` (packaged)                       + NCBI-disease/BC5CDR/BioRED train
``pathogen-names``        ``dev/imner_dev/resources/annotation/pathogen_names.tsv``    ``$IMNER_DATA/lexicons`` (NCBITaxon imports)
``imd-cases``             ``corpus/imd-cases/ann/*.ann``, ``ann-codiesp/*.ann``,       MACCROBAT2020 / CodiEsp +
                          ``split.tsv``                                                prelabels + decisions
``hierarchy``             ``src/imner/resources/ontology/hierarchy.json.gz`` (packaged) ``$IMNER_DATA/lexicons`` + the lexicon's curated taxa
``context-index``         ``src/imner/resources/context_rules.index.json`` (packaged)   ``context_rules.json`` (the matcher's lead words)
========================  ===========================================================  ==========================

``imner build [RESOURCE ...]`` rewrites them (all, in this order, when none is named); ``imner build --check``
rebuilds each one in memory or in a temporary folder and exits 1, naming the resource, when a committed file differs
from a fresh build. The test suite runs ``--check`` on all of them (``tests/test_build.py``; about 15 s of CPU, most of
it the lexicon). Not covered: the shipped default model (``src/imner/resources/models/default``), which is trained
(hours) and exported, as its model card says; hand-edited sources (``context_rules.json``, ``drug_classes.json``,
``zeroshot/prototypes.json``, the curated lexicon TSVs, the decisions) are inputs, not outputs.
"""

from __future__ import annotations

import filecmp
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

@dataclass(frozen=True)
class Resource:
    name: str
    output: str  # what it writes, relative to the checkout
    build: Callable[[], int]
    check: Callable[[], int]  # 0 when the committed file(s) equal a fresh build
    needs_data: bool = True  # reads $IMNER_DATA


def _same_file(fresh: Path, committed: Path, name: str) -> int:
    if filecmp.cmp(fresh, committed, shallow=False):
        return 0
    print(f"{committed} differs from a fresh build: run `imner build {name}`")
    return 1


def _lexicon_build() -> int:
    from imner_dev.lexicon.build import build, summary

    path, info = build()
    print(f"wrote {path}\n{summary(info)}")
    return 0


def _lexicon_check() -> int:
    from imner.lexicon import LEXICON_DIR
    from imner_dev.lexicon.build import build

    with tempfile.TemporaryDirectory() as tmp:
        path, _ = build(tmp)
        return _same_file(path, LEXICON_DIR / path.name, "lexicon") or _same_file(
            path.parent / "corpus_terms.tsv.gz", LEXICON_DIR / "corpus_terms.tsv.gz", "lexicon")


def _pathogens_build() -> int:
    from imner_dev.annotation import pathogens

    return pathogens.main([])


def _pathogens_check() -> int:
    from imner_dev.annotation import pathogens

    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / pathogens.LEXICON_FILE.name
        pathogens.main(["--out", str(fresh)])
        return _same_file(fresh, pathogens.LEXICON_FILE, "pathogen-names")


def _imd_build() -> int:
    from imner_dev.commands.imd_cases import build_all

    return build_all([])


def _imd_check() -> int:
    from imner_dev.commands.imd_cases import check_all

    return check_all()


def _hierarchy_build() -> int:
    from imner_dev.lexicon import hierarchy

    return hierarchy.main([])


def _hierarchy_check() -> int:
    from imner_dev.lexicon import hierarchy

    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / hierarchy.DEFAULT_OUT.name
        hierarchy.main(["--out", str(fresh)])
        return _same_file(fresh, hierarchy.DEFAULT_OUT, "hierarchy")


def _context_index_build() -> int:
    from imner.context.lead import main

    return main()


def _context_index_check() -> int:
    from imner.context.lead import packaged_index_text
    from imner.context.rules import DEFAULT_INDEX_PATH

    if DEFAULT_INDEX_PATH.read_text(encoding="utf-8") == packaged_index_text():
        return 0
    print(f"{DEFAULT_INDEX_PATH} differs from a fresh build: run `imner build context-index`")
    return 1


RESOURCES: tuple[Resource, ...] = (
    Resource("lexicon", "src/imner/resources/lexicon/index.json.gz", _lexicon_build, _lexicon_check),
    Resource("pathogen-names", "dev/imner_dev/resources/annotation/pathogen_names.tsv", _pathogens_build,
             _pathogens_check),
    Resource("imd-cases", "corpus/imd-cases/ann/, corpus/imd-cases/ann-codiesp/, corpus/imd-cases/split.tsv",
             _imd_build, _imd_check),
    # after the lexicon: the curated taxa it adds are placed under their genus (cohort query descendants)
    Resource("hierarchy", "src/imner/resources/ontology/hierarchy.json.gz", _hierarchy_build, _hierarchy_check),
    Resource("context-index", "src/imner/resources/context_rules.index.json", _context_index_build,
             _context_index_check, needs_data=False),
)
BY_NAME = {r.name: r for r in RESOURCES}


def run(names: list[str] | None = None, *, check: bool = False, log: Callable[[str], None] = print) -> int:
    """Build (or with ``check`` verify) the named resources, all when ``names`` is empty; 1 if any check failed."""
    import time

    chosen = [BY_NAME[n] for n in names] if names else list(RESOURCES)
    failed = []
    for r in chosen:
        t0 = time.perf_counter()
        rc = (r.check if check else r.build)()
        took = time.perf_counter() - t0
        if rc:
            failed.append(r.name)
        log(f"{r.name}: {'differs from a fresh build' if check and rc else 'failed' if rc else 'ok'} "
            f"({r.output}; {took:.1f} s)")
    if failed:
        log(f"{'out of date' if check else 'failed'}: {', '.join(failed)}")
    return 1 if failed else 0
