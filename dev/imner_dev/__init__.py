"""imner's build-time and experiment code: not part of the ``imner`` wheel.

What builds the packaged data and runs the experiments lives here, outside ``src/``, so that the runtime
package (``imner``) never imports it and ``pip install imner`` never ships it:

* :mod:`imner_dev.annotation` builds the ``imd-cases`` corpus (``corpus/imd-cases``) and derives the silver corpora;
* :mod:`imner_dev.lexicon` builds the packaged lexicon index (``src/imner/resources/lexicon/index.json.gz``);
* :mod:`imner_dev.compare` is the comparison harness behind ``imner compare``;
* :mod:`imner_dev.train_embeddings` trains the BiLSTM's word vectors.

Install it beside imner from a checkout (``pip install -e . -e dev/``; ``make install-test`` does). It plugs into
the runtime through entry points only (``dev/pyproject.toml``): ``imner.commands`` adds the ``imner compare``,
``imner imd-cases`` and ``imner build`` subcommands, ``imner.corpora`` registers the silver corpora.
"""

from pathlib import Path

#: data files the builders read (not shipped with imner)
RESOURCES = Path(__file__).resolve().parent / "resources"
#: the checkout this package lives in (dev/ is always inside one)
REPO_ROOT = Path(__file__).resolve().parents[2]
