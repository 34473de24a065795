"""``imner corpus list`` and ``imner corpus stats NAME``: the named corpora over the shared data."""

from __future__ import annotations

import argparse
import json
from typing import Any, Sequence

from imner.commands import command_group


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = command_group(subparsers, "corpus", help="list the named corpora and count what they hold",
                        description="Named corpora read from $IMNER_DATA (see imner.corpora).")

    pl = sub.add_parser("list", help="name, documents per split, labels and licence of each corpus")
    pl.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pl.set_defaults(func=_list)

    ps = sub.add_parser("stats", help="documents, tokens and entities per label for each split of a corpus")
    ps.add_argument("name", help="corpus name (see `imner corpus list`)")
    ps.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ps.set_defaults(func=_stats)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[bool] | None = None) -> str:
    """A plain-text table; numbers are right-aligned unless ``right`` says otherwise."""
    cells = [[str(h) for h in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    if right is None:
        right = [i > 0 and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)
                 for i in range(len(header))]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     .rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _list(args: argparse.Namespace) -> int:
    from imner.corpora import list_corpora, load
    from imner.errors import DataNotFoundError

    out = []
    for c in list_corpora():
        try:
            docs: dict[str, int] | None = {s: len(load(c.name, s)) for s in c.splits}
        except DataNotFoundError:
            docs = None
        out.append({"name": c.name, "documents": docs, "labels": list(c.labels),
                    "annotates": sorted(c.annotates), "licence": c.licence, "format": c.format,
                    "description": c.description})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    rows = []
    for c in out:
        docs_txt = ("data missing (set IMNER_DATA)" if c["documents"] is None
                    else " / ".join(f"{s} {n}" for s, n in c["documents"].items()))
        labels = c["labels"]
        labels_txt = ", ".join(labels) if len(labels) <= 4 else f"{len(labels)} types: {', '.join(labels[:3])}, ..."
        rows.append([c["name"], docs_txt, labels_txt, c["licence"]])
    print(format_table(["corpus", "documents", "labels", "licence"], rows, right=[False] * 4))
    return 0


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if k == "entities_per_label":
            continue
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k} "))
        else:
            out[f"{prefix}{k}"] = v
    return out


def format_stats(st: dict[str, Any]) -> str:
    """The tables ``imner corpus stats`` prints for a :func:`imner.corpora.stats.corpus_stats` result."""
    splits: dict[str, dict[str, Any]] = st["splits"]
    names = list(splits)
    parts = [f"corpus {st['corpus']}  (annotates: {', '.join(st['annotates']) or '-'})", ""]
    rows = [[s, v["documents"], v["tokens"], v["entities"]] for s, v in splits.items()]
    t = st["total"]
    rows.append(["total", t["documents"], t["tokens"], t["entities"]])
    parts.append(format_table(["split", "documents", "tokens", "entities"], rows))

    labels = list(t["entities_per_label"])
    for lab in st["labels"]:
        if lab not in labels:
            labels.append(lab)
    rows = [[lab, *(splits[s]["entities_per_label"].get(lab, 0) for s in names),
             t["entities_per_label"].get(lab, 0)] for lab in labels]
    parts += ["", format_table(["label", *names, "total"], rows)]

    source = {s: _flat(v["source"]) for s, v in splits.items() if v.get("source")}
    if source:
        keys = list(dict.fromkeys(k for v in source.values() for k in v))
        rows = [[s, *(v.get(k) for k in keys)] for s, v in source.items()]
        parts += ["", "source's own counts:", format_table(["split", *keys], rows)]
    if st["notes"]:
        parts += ["", "notes:"] + [f"- {n}" for n in st["notes"]]
    return "\n".join(parts)


def _stats(args: argparse.Namespace) -> int:
    from imner.corpora.stats import corpus_stats

    st = corpus_stats(args.name)
    print(json.dumps(st, indent=2) if args.json else format_stats(st))
    return 0
