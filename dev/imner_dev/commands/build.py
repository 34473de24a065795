"""``imner build lexicon``: regenerate a packaged resource from its sources (dev package)."""

from __future__ import annotations

import argparse
import json
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("build", help="regenerate packaged resources (dev package)",
                              description="Regenerate the packaged resources from their sources (checkout only).")
    sub = p.add_subparsers(dest="build_command", metavar="RESOURCE")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    pb = sub.add_parser("lexicon", help="build index.json.gz from $IMNER_DATA/lexicons and the curated files",
                        description="Reads the stored vocabularies under $IMNER_DATA/lexicons plus curated.tsv and "
                                    "class_overrides.tsv, and writes index.json.gz (default: the packaged "
                                    "src/imner/resources/lexicon/).")
    pb.add_argument("--out", metavar="DIR", help="output folder (default: the packaged resources folder)")
    pb.add_argument("--lexicons", metavar="DIR", help="source folder (default: $IMNER_DATA/lexicons)")
    pb.add_argument("--curated", metavar="DIR", help="folder with curated.tsv and class_overrides.tsv "
                                                     "(default: the packaged ones)")
    pb.add_argument("--json", action="store_true", help="print the build report as JSON")
    pb.set_defaults(func=_lexicon)


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
