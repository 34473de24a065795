"""``imner imd-cases build|check|split``: the imd-cases corpus (MACCROBAT2020 in the twelve classes).

Thin wrappers over :mod:`imner_dev.annotation.build` and :mod:`imner_dev.annotation.split` (also runnable as
``python -m imner_dev.annotation.build`` / ``python -m imner_dev.annotation.split``)."""

from __future__ import annotations

import argparse

from imner.commands import command_group


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = command_group(subparsers, "imd-cases", help="build and check the imd-cases corpus (corpus/imd-cases)",
                        description="The imd-cases corpus: MACCROBAT2020 projected onto the twelve classes plus "
                                    "review decisions (docs/corpus.md).")

    pb = sub.add_parser("build", help="regenerate ann/ and review/ from MACCROBAT2020 + decisions/")
    pb.add_argument("--no-review", action="store_true", help="do not rewrite the review files")
    pb.add_argument("--collect-review", action="store_true",
                    help="first merge reviewers' decision/reason columns of review/diseases.tsv into decisions/")
    pb.set_defaults(func=_build)

    pc = sub.add_parser("check", help="exit 1 unless ann/ equals a fresh build and split.tsv its recipe")
    pc.set_defaults(func=_check)

    ps = sub.add_parser("split", help="make concerns.tsv and split.tsv once (refuses to overwrite)")
    ps.add_argument("--force", action="store_true", help="overwrite (never after review has started)")
    ps.set_defaults(func=_split)


def _build(args: argparse.Namespace) -> int:
    from imner_dev.annotation import build

    argv = (["--no-review"] if args.no_review else []) + (["--collect-review"] if args.collect_review else [])
    return build.main(argv)


def _check(args: argparse.Namespace) -> int:
    from imner_dev.annotation import build, split

    return build.main(["--check"]) or split.main(["--check"])


def _split(args: argparse.Namespace) -> int:
    from imner_dev.annotation import split

    return split.main(["--force"] if args.force else [])
