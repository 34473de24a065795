"""``imner build [RESOURCE ...] [--check]`` (dev package): regenerate the committed generated files, or check that
they equal a fresh build (:mod:`imner_dev.resources` lists them)."""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    from imner_dev.resources import RESOURCES

    names = [r.name for r in RESOURCES]
    p = subparsers.add_parser(
        "build", help="regenerate the generated resources, or --check them (dev package)",
        description="Regenerate the committed generated files from their sources: " + ", ".join(names)
                    + " (all, in that order, when none is named). --check rebuilds them aside and exits 1 when a "
                      "committed file differs. Checkout only.")
    p.add_argument("resources", nargs="*", choices=[*names, []], metavar="RESOURCE",
                   help=f"one or more of: {', '.join(names)} (default: all)")
    p.add_argument("--check", action="store_true", help="exit 1 unless every committed file equals a fresh build")
    g = p.add_argument_group("lexicon only (imner build lexicon ...)")
    g.add_argument("--out", metavar="DIR", help="output folder (default: the packaged resources folder)")
    g.add_argument("--lexicons", metavar="DIR", help="source folder (default: $IMNER_DATA/lexicons)")
    g.add_argument("--curated", metavar="DIR", help="folder with curated.tsv and class_overrides.tsv "
                                                    "(default: the packaged ones)")
    g.add_argument("--json", action="store_true", help="print the lexicon build report as JSON")
    p.set_defaults(func=_run, _parser=p)


def _run(args: argparse.Namespace) -> int:
    from imner_dev import resources

    lexicon_options = any(getattr(args, k) for k in ("out", "lexicons", "curated", "json"))
    if lexicon_options:
        if args.resources != ["lexicon"] or args.check:
            args._parser.error("--out, --lexicons, --curated and --json go with `imner build lexicon` alone")
        return _lexicon(args)
    return resources.run(args.resources, check=args.check, log=lambda m: print(m, file=sys.stderr, flush=True))


def _lexicon(args: argparse.Namespace) -> int:
    from imner_dev.lexicon.build import build, summary

    t0 = time.perf_counter()
    path, info = build(args.out, lexicons_dir=args.lexicons, curated_dir=args.curated)
    if args.json:
        print(json.dumps({"path": str(path), "bytes": path.stat().st_size, **info}, indent=2))
    else:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.1f} s")
        print(summary(info))
    return 0
