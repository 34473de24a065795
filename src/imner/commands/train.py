"""``imner train CONFIG.toml [--output DIR]`` (or ``--config CONFIG.toml``): train a tagger from a TOML config."""

from __future__ import annotations

import argparse

DESCRIPTION = """Train a tagger from a TOML config and write a model directory.

The config names the tagger family and its parameters ([model]; init = "default" fine-tunes the
shipped default's weights), the training and optional dev/test data with an optional label map ([data]):
named corpora or your own files ({path = "my_reports/", format = "brat"}, also conll, pubtator, bioc,
jsonl), and the output directory ([output]); unknown keys are errors. Examples: configs/crf-ncbi.toml,
configs/user-brat.toml; docs/training.md walks through training on your own brat annotations. The model
directory gets the tagger's files, train_config.toml (a copy of the config), data_manifest.json,
training.json and dev_metrics.json / test_metrics.json. Load it with `imner extract --model DIR`.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a tagger from a TOML config",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config_file", nargs="?", default=None, metavar="CONFIG",
                   help="training config (TOML), e.g. configs/user-brat.toml")
    p.add_argument("-c", "--config", default=None, help="the training config (the same as CONFIG)")
    p.add_argument("-o", "--output", default=None, help="model directory (overrides [output] dir)")
    p.add_argument("--overwrite", action="store_true", default=None,
                   help="replace an existing model directory (overrides [output] overwrite)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress; print warnings, errors and the model directory only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import sys

    from imner.errors import ConfigError
    from imner.training import load_train_config, train_from_config

    if args.config and args.config_file and args.config != args.config_file:
        raise ConfigError(f"two configs given: {args.config_file} and --config {args.config}; give one")
    config = args.config or args.config_file
    if not config:
        raise ConfigError("no training config: imner train CONFIG.toml (see configs/ and docs/training.md)")
    cfg = load_train_config(config)
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
