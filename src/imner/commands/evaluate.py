"""``imner evaluate``: score predictions against gold annotations (strict, exact, partial, type).

Gold comes from a file or folder (``--gold``), a named corpus split (``--corpus NAME [--split test]``) or the
test (``--split dev``: dev) data of an ``imner train`` config (``--train-config CONFIG``, docs/training.md);
predictions from a file or folder (``--pred``) or from running a saved tagger over the gold texts
(``--model DIR``). Files are read with :func:`imner.io.read_documents` (format guessed from the path unless
``--format``/``--gold-format``/``--pred-format`` say). Documents are paired by id.

Examples::

    imner evaluate --gold gold.jsonl --pred pred.jsonl
    imner evaluate --gold corpus/brat --pred out/brat --format brat --json report.json
    imner evaluate --train-config configs/user-brat.toml --model models/my-reports-onnx
    imner evaluate --corpus ncbi-disease --split test --model models/crf \\
        --label-map IMMUNE_DISEASE=Disease,INFECTIOUS_DISEASE=Disease,OTHER_DISEASE=Disease --labels Disease

Prints a table (scores in %): per label and micro/macro, strict P/R/F1/support and exact/partial/type F1,
with bootstrap 95% intervals of micro F1. ``--json OUT`` also writes the full report (``-``: standard
output, and the table then goes to standard error). See :mod:`imner.evaluate` for the definitions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imner.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score predictions against gold annotations",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    gold = p.add_mutually_exclusive_group(required=True)
    gold.add_argument("--gold", metavar="PATH", help="gold annotations: a file or folder in any supported format")
    gold.add_argument("--corpus", metavar="NAME", help="gold annotations from a named corpus (see `imner corpus`)")
    gold.add_argument("--train-config", metavar="CONFIG",
                      help="gold annotations: the test data (--split dev: the dev data) of an `imner train` config, "
                           "read, split and label-mapped as training reads them; in documents with partial labels "
                           "only the annotated classes are scored")
    pred = p.add_mutually_exclusive_group(required=True)
    pred.add_argument("--pred", metavar="PATH", help="predictions: a file or folder in any supported format")
    pred.add_argument("--model", metavar="DIR", help="a saved tagger to run over the gold texts; the word "
                      "default names the shipped default model")
    p.add_argument("--split", default=None, help="corpus split with --corpus, role with --train-config (default: test)")
    p.add_argument("-f", "--format", default=None, help="format of both --gold and --pred (default: from the path)")
    p.add_argument("--gold-format", default=None, help="format of --gold (overrides --format)")
    p.add_argument("--pred-format", default=None, help="format of --pred (overrides --format)")
    p.add_argument("--labels", default=None, metavar="A,B",
                   help="evaluate only these labels (names after --label-map); other spans are removed")
    p.add_argument("--label-map", default=None, metavar="OLD=NEW,...",
                   help="rename labels in gold and predictions before scoring")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the report as JSON (- for stdout)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples of documents for the 95%% CI of micro F1 (0: none; default 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap (default 0)")
    p.set_defaults(func=run)


def _parse_labels(value: str | None) -> list[str] | None:
    if value is None:
        return None
    labels = [x.strip() for x in value.split(",") if x.strip()]
    if not labels:
        raise ConfigError(f"--labels {value!r} names no label; give a comma-separated list such as A,B")
    return labels


def _parse_label_map(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    mapping: dict[str, str] = {}
    for item in (x.strip() for x in value.split(",")):
        if not item:
            continue
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ConfigError(f"--label-map item {item!r} is not OLD=NEW; give e.g. A=X,B=X")
        mapping[old.strip()] = new.strip()
    if not mapping:
        raise ConfigError(f"--label-map {value!r} maps nothing; give e.g. A=X,B=X")
    return mapping


def _read(path: str, fmt: str | None):
    from imner.io import read_documents

    return read_documents(path, format=fmt)


def _gold_docs(args: argparse.Namespace):
    if getattr(args, "train_config", None):
        from imner.training import load_train_config, role_documents

        return role_documents(load_train_config(args.train_config), args.split or "test")
    if args.corpus:
        from imner import corpora

        return corpora.load(args.corpus, args.split or "test")
    if args.split is not None:
        raise ConfigError("--split applies to --corpus only")
    return _read(args.gold, args.gold_format or args.format)


def _pred_docs(args: argparse.Namespace, gold):
    if args.model:
        from imner.taggers import load_tagger

        if args.model == "default" and not Path(args.model).exists():
            from imner.config import RESOURCES

            args.model = str(RESOURCES / "models" / "default")
        tagger = load_tagger(args.model)
        blank = [d.with_spans(()) for d in gold]  # the tagger never sees the gold spans
        return tagger.annotate(blank)
    fmt = args.pred_format or args.format
    from imner.io import detect_format

    if (fmt or detect_format(args.pred)) == "jsonl":
        # `imner extract` output leaves the text out by default: take it from the gold documents
        from imner.io.jsonl import read_jsonl

        return list(read_jsonl(args.pred, texts={d.id: d.text for d in gold}))
    return _read(args.pred, fmt)


def run(args: argparse.Namespace) -> int:
    from imner.evaluate import evaluate

    labels = _parse_labels(args.labels)
    label_map = _parse_label_map(args.label_map)
    if args.bootstrap < 0:
        raise ConfigError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    gold = _gold_docs(args)
    pred = _pred_docs(args, gold)
    if getattr(args, "train_config", None):
        from imner.training import annotated_only

        pred = annotated_only(gold, pred)
    report = evaluate(gold, pred, labels=labels, label_map=label_map, bootstrap=args.bootstrap, seed=args.seed)
    table_out = sys.stdout
    if args.json == "-":
        sys.stdout.write(report.to_json() + "\n")
        table_out = sys.stderr
    elif args.json:
        from imner.io.safe import write_text_safely

        write_text_safely(args.json, report.to_json() + "\n")
    print(report.format_table(), file=table_out)
    return 0
