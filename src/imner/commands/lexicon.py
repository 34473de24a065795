"""``imner lexicon lookup|xref``: query the packaged lexicon index (built by ``imner build lexicon``, dev package)."""

from __future__ import annotations

import argparse
import json

from imner.commands import command_group


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = command_group(subparsers, "lexicon", help="query the lexicon (DO, HPO, DrugBank, NCBITaxon terms)",
                        description="The lexicon knowledge base behind the dictionary tagger (imner.lexicon).")

    pl = sub.add_parser("lookup", help="concepts for terms (normalized like the dictionary tagger does)")
    pl.add_argument("terms", nargs="+", metavar="TERM")
    pl.add_argument("--index", metavar="PATH", help="lexicon index (default: the packaged one)")
    pl.add_argument("--ignore-case", action="store_true", help="let abbreviations match in any case")
    pl.add_argument("--json", action="store_true", help="print JSON")
    pl.set_defaults(func=_lookup)

    px = sub.add_parser("xref", help="DOIDs for MeSH/OMIM/UMLS/ICD-10-CM/MONDO ids (MESH:D008180, OMIM:152700)")
    px.add_argument("ids", nargs="+", metavar="ID")
    px.add_argument("--index", metavar="PATH", help="lexicon index (default: the packaged one)")
    px.add_argument("--json", action="store_true", help="print JSON")
    px.set_defaults(func=_xref)


def _concept_dict(c) -> dict:
    d = {"id": c.id, "name": c.name, "label": c.label, "source": c.source}
    for k in ("category", "subcategory", "kind"):
        if getattr(c, k):
            d[k] = getattr(c, k)
    if c.icd10cm:
        d["icd10cm"] = list(c.icd10cm)
    if c.xrefs:
        d["xrefs"] = list(c.xrefs)
    return d


def _lookup(args: argparse.Namespace) -> int:
    from imner.lexicon import load_lexicon, normalize_term

    lex = load_lexicon(args.index)
    out = {t: [_concept_dict(c) for c in lex.lookup(t, respect_case=not args.ignore_case)] for t in args.terms}
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for term, concepts in out.items():
        print(f"{term}  [{normalize_term(term)}]")
        if not concepts:
            print("  (no match)")
        for c in concepts:
            extra = " ".join(f"{k}={c[k]}" for k in ("category", "subcategory", "kind") if k in c)
            codes = " ".join(c.get("icd10cm", []))
            print(f"  {c['label']:<19} {c['id']:<20} {c['name']}  {extra}{'  ICD-10-CM ' + codes if codes else ''}")
    return 0


def _xref(args: argparse.Namespace) -> int:
    from imner.lexicon import load_lexicon

    lex = load_lexicon(args.index)
    out = {x: lex.by_xref(x) for x in args.ids}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for x, doids in out.items():
        names = ", ".join(f"{d} ({lex.concept(d).name})" for d in doids if d in lex) or "(none)"
        flag = "  AMBIGUOUS" if len(doids) > 1 else ""
        print(f"{x}: {names}{flag}")
    return 0
