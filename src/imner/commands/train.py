"""``imner train --config CONFIG.toml [--output DIR]``: train a tagger from a TOML config."""

from __future__ import annotations

import argparse

DESCRIPTION = """Train a tagger from a TOML config and write a model directory.

The config names the tagger family and its parameters ([model]), the training and optional dev/test
corpora with an optional label map ([data]) and the output directory ([output]); unknown keys are
errors. Examples: configs/crf-ncbi.toml, configs/crf-imd.toml. The model directory gets the tagger's
files, train_config.toml (a copy of the config), data_manifest.json, training.json and
dev_metrics.json / test_metrics.json. Load it with `imner extract --model DIR`.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a tagger from a TOML config",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-c", "--config", required=True, help="training config (TOML), e.g. configs/crf-ncbi.toml")
    p.add_argument("-o", "--output", default=None, help="model directory (overrides [output] dir)")
    p.add_argument("--overwrite", action="store_true", default=None,
                   help="replace an existing model directory (overrides [output] overwrite)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress; print warnings, errors and the model directory only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import sys

    from imner.training import load_train_config, train_from_config

    cfg = load_train_config(args.config)
    handler = None
    logger = logging.getLogger("imner")
    old_level = logger.level
    if not args.quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    try:
        summary = train_from_config(cfg, output=args.output, overwrite=args.overwrite, progress=progress)
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
    print(summary["output"])
    return 0
