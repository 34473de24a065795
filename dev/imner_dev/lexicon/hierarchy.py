"""Build ``src/imner/resources/ontology/hierarchy.json.gz``: the parent links that cohort queries expand a code
with (a query for an ancestor also finds its descendants).

Sources, read with the lexicon's own parsers (:mod:`imner_dev.lexicon.sources`) from ``$IMNER_DATA/lexicons``:

* Disease Ontology ``is_a`` parents (``DOreports/HumanDO.tsv`` plus the subset OBO files);
* NCBITaxon parents from DO's and MONDO's ``ncbitaxon_import`` modules (both lineages where a taxon was renamed
  or moved, e.g. Herpesviridae and Orthoherpesviridae);
* HPO ``is_a`` parents from ``hpo/hp.obo.gz``;
* taxa of the packaged lexicon (its curated list) that the import modules lack, placed under their genus when
  the first word of their binomial name is a genus the modules have (``Streptococcus agalactiae`` ->
  ``Streptococcus``).

ICD-10-CM needs no table: its hierarchy is the code prefix (``M32`` covers ``M32.1``, ``M32.14``...).
DrugBank has none. The output is deterministic (sorted lines, gzip without a timestamp)::

    {"format": "imner-hierarchy", "version": 1, "info": {...},
     "parents": "DOID:9074<TAB>DOID:417|DOID:0080599\\n..."}    # child -> parents, '|'-joined

Run: ``imner build hierarchy`` (``imner build --check hierarchy`` compares with the committed file), or
``python -m imner_dev.lexicon.hierarchy [--out FILE]``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

from imner.config import RESOURCES, data_path
from imner_dev.lexicon.sources import obo_data_version, read_disease_ontology, read_obo, read_taxa

FORMAT = "imner-hierarchy"
VERSION = 1
DEFAULT_OUT = RESOURCES / "ontology" / "hierarchy.json.gz"


def collect(lexicons: Path) -> tuple[dict[str, set[str]], dict[str, object]]:
    """child -> parents over DO, NCBITaxon and HPO, and the info block (versions, counts)."""
    parents: dict[str, set[str]] = {}
    do = read_disease_ontology(lexicons / "disease_ontology")
    for child, ps in do.parents.items():
        parents.setdefault(child, set()).update(p for p in ps if p != child)
    tx = read_taxa(lexicons / "disease_ontology" / "imports" / "ncbitaxon_import.owl",
                   lexicons / "mondo" / "imports" / "ncbitaxon_import.obo")
    for child, p in tx.parent.items():
        if p != child and p.startswith("NCBITaxon:"):
            parents.setdefault(child, set()).add(p)
    # MONDO's import keeps older lineages (Betaherpesvirinae under Herpesviridae, where DO's newer one has
    # Orthoherpesviridae): both are kept, so a query by either name finds the species below.
    for t in read_obo(lexicons / "mondo" / "imports" / "ncbitaxon_import.obo"):
        if not t.obsolete and t.id.startswith("NCBITaxon:"):
            ps = {p for p in t.is_a if p.startswith("NCBITaxon:") and p != t.id}
            if ps:
                parents.setdefault(t.id, set()).update(ps)
    # taxa that the packaged lexicon has from its curated list but the import modules lack (Streptococcus
    # agalactiae, Candida auris...): a binomial name goes under its genus when the modules name that genus
    from imner.lexicon import load_lexicon

    genus: dict[str, list[str]] = {}
    named: dict[str, list[str]] = {}  # any rank, for genera whose rank the modules do not record
    for tid, name in tx.name.items():
        named.setdefault(name.lower(), []).append(tid)
        if tx.rank.get(tid) == "genus":
            genus.setdefault(name.lower(), []).append(tid)
    n_genus = 0
    for c in load_lexicon().concepts():
        if c.id.startswith("NCBITaxon:") and c.id not in parents and " " in c.name:
            first = c.name.split()[0].lower()
            hits = genus.get(first) or [t for t in named.get(first, []) if t in parents]
            if len(hits) == 1 and hits[0] != c.id:
                parents[c.id] = {hits[0]}
                n_genus += 1
    hp = lexicons / "hpo" / "hp.obo.gz"
    n_hp = 0
    for t in read_obo(hp):
        if t.obsolete or not t.id.startswith("HP:"):
            continue
        ps = {p for p in t.is_a if p.startswith("HP:") and p != t.id}
        if ps:
            parents.setdefault(t.id, set()).update(ps)
            n_hp += 1
    info = {"disease_ontology": do.version, "hpo": obo_data_version(hp),
            "counts": {prefix: sum(1 for c in parents if c.startswith(prefix + ":"))
                       for prefix in ("DOID", "NCBITaxon", "HP")},
            "taxa_placed_under_their_genus_by_name": n_genus, "icd10cm": "prefix-based (no table)"}
    return parents, info


def write(parents: dict[str, set[str]], info: dict[str, object], out: Path) -> Path:
    lines = "\n".join(f"{c}\t{'|'.join(sorted(ps))}" for c, ps in sorted(parents.items()) if ps)
    data = json.dumps({"format": FORMAT, "version": VERSION, "info": info, "parents": lines},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lexicons", default=None, help="the stored vocabularies (default $IMNER_DATA/lexicons)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output file (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    parents, info = collect(Path(args.lexicons) if args.lexicons else data_path("lexicons"))
    out = write(parents, info, Path(args.out))
    print(f"{out}: {info['counts']} child->parent entries ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
