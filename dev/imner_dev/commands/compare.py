"""``imner compare`` (dev package): run every available tagger on the same evaluation splits; write a table and a plot."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare taggers on the same splits (table + plot)",
                       description="Run every system of a comparison config on the same test splits and write "
                                   "comparison.md, comparison.json and comparison.png. Missing models are trained "
                                   "from their configs first (--no-train to skip them instead).")
    p.add_argument("-c", "--config", help="comparison config (TOML; default: the checkout's configs/compare.toml)")
    p.add_argument("-o", "--out", help="output folder (default: the checkout's benchmarks/results)")
    p.add_argument("--no-train", action="store_true", help="skip systems whose model is not trained yet")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from imner_dev.compare import DEFAULT_CONFIG, DEFAULT_OUT, run_comparison, write_outputs

    results = run_comparison(args.config or DEFAULT_CONFIG, train=not args.no_train, bootstrap=args.bootstrap,
                             log=lambda m: print(m, file=sys.stderr, flush=True))
    for path in write_outputs(results, args.out or DEFAULT_OUT):
        print(path)
    return 0
