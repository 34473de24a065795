"""How the shipped default model was chosen: each CPU-runnable candidate on the two dev splits (never test).

Criterion, fixed before looking: the mean of strict micro-F1 on imd-cases dev (twelve classes) and on NCBI-disease dev
(disease mentions; the three disease classes and NCBI's four types mapped to "Disease"), because the default serves
both targets. Run: ``python benchmarks/select_default.py`` → benchmarks/results/default_selection.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402
from default_model import NCBI_MAP  # noqa: E402

CANDIDATES = {
    "BiLSTM-CNN-Char-CRF, imd-cases + silver (configs/bilstm-default.toml)": "models/bilstm-default",
    "BiLSTM-CNN-Char-CRF, imd-cases only (configs/bilstm-imd.toml)": "models/bilstm-imd",
    "MiniLM-L6 transformer, imd-cases + silver (configs/transformer-silver.toml)": "models/transformer-silver",
}


def main() -> None:
    from imner import corpora
    from imner.evaluate import evaluate
    from imner.taggers import load_tagger

    info = run_info("python benchmarks/select_default.py")
    sets = {"imd-cases dev": (corpora.load("imd-cases", "dev"), None, None),
            "NCBI-disease dev": (corpora.load("ncbi-disease", "dev"), NCBI_MAP, ("Disease",))}
    rows = []
    for name, path in CANDIDATES.items():
        if not (ROOT / path / "config.json").is_file():
            rows.append({"candidate": name, "model": path, "missing": True})
            continue
        tagger = load_tagger(ROOT / path)
        row = {"candidate": name, "model": path}
        for set_name, (gold, label_map, labels) in sets.items():
            t0 = time.perf_counter()
            pred = tagger.annotate([d.with_spans(()) for d in gold])
            row[set_name] = evaluate(gold, pred, labels=labels, label_map=label_map, bootstrap=0).f1("strict", "micro")
            row[f"{set_name} seconds"] = round(time.perf_counter() - t0, 1)
        row["mean"] = (row["imd-cases dev"] + row["NCBI-disease dev"]) / 2
        rows.append(row)
    ranked = sorted((r for r in rows if "mean" in r), key=lambda r: -r["mean"])
    out = {"info": info, "criterion": "mean of strict micro-F1 on imd-cases dev and NCBI-disease dev", "rows": rows,
           "chosen": ranked[0]["model"] if ranked else None}
    (RESULTS / "default_selection.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    lines = header("Choosing the default model (dev splits only)", info)
    lines += [f"Criterion: {out['criterion']}.", "",
              "| candidate | imd-cases dev | NCBI-disease dev | mean |", "|---|---|---|---|"]
    for r in ranked:
        lines.append(f"| {r['candidate']} | {r['imd-cases dev']:.3f} | {r['NCBI-disease dev']:.3f} | "
                     f"**{r['mean']:.3f}** |")
    lines += ["", f"Chosen: `{out['chosen']}` (exported to ONNX as the shipped default)."]
    (RESULTS / "default_selection.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
