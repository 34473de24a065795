"""Training on a team's own annotations (docs/training.md), measured: fine-tuning the shipped default vs training
from scratch, through ``imner train`` configs with path sources exactly as a user writes them.

The "team": BC5CDR's training abstracts read as a PubTator file of one's own, annotated for one class
(``Chemical`` -> MEDICATION; ``Disease`` ignored, so the other eleven classes get partial labels). BC5CDR is not in
the shipped default's training data (configs/bilstm-default-grown.toml). The first ``--train-docs`` abstracts of a
90/10 seeded split train, up to 50 of the 10% choose the epoch; BC5CDR's development set (500 abstracts, never
trained on here) is the team's test set. Chemicals are not all medications: the point is a team's own convention,
which neither model had seen.

Reported: strict and partial F1 of MEDICATION on that test set for the shipped default, the default fine-tuned with
``init = "default"`` (alone, and with ``init_fill = true``: the classes the team did not annotate filled with the
default's own predictions), and a BiLSTM trained from scratch (random word vectors, as a team without vectors would);
and, to see what fine-tuning on one class does to the others, per-class strict F1 on imd-cases **dev** (where the
choice between the two fine-tuning settings is made; no test split is used for it). Models are scored as their ONNX
int8 copies (``output.onnx_dir``).

Run: ``python benchmarks/user_finetune.py [--train-docs 200] [--epochs 4]`` (writes
``benchmarks/results/user_finetune.{json,md}``; about 12 minutes on 2 busy CPU cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, git_commit, machine  # noqa: E402

CONFIG = """[model]
tagger = "bilstm.v1"
{init}
{fill}

[model.params]
lr = {lr}
epochs = {epochs}
patience = 2
batch_size = 16
seed = 0
threads = 1
progress = false

[data]
train = {{split = "train", limit = {train_docs}}}
dev = {{split = "dev", limit = 50}}
test = {{path = "{held_out}", split_ratio = {{all = 1.0}}, split = "all"}}  # the whole file

[data.source_defaults]
path = "{train_file}"
format = "pubtator"
split_ratio = {{train = 0.9, dev = 0.1}}
seed = 0
label_map = {{Chemical = "MEDICATION"}}
ignore_labels = ["Disease"]

[output]
dir = "{out}"
onnx_dir = "{out}-onnx"
"""


def _config(tmp: Path, name: str, init: str, fill: str, lr: float, args: argparse.Namespace, train_file: Path,
            held_out: Path) -> Path:
    text = CONFIG.format(init=init, fill=fill, lr=lr, epochs=args.epochs, train_docs=args.train_docs,
                         train_file=train_file.as_posix(), held_out=held_out.as_posix(),
                         out=(tmp / name).as_posix())
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _scores(gold, pred, labels=None) -> dict:
    from imner.evaluate import evaluate
    from imner.training import annotated_only

    report = evaluate(gold, annotated_only(gold, pred), labels=labels, bootstrap=300, seed=0)
    d = report.to_dict()
    out = {"micro": {c: {k: round(d[c]["micro"][k], 4) for k in ("precision", "recall", "f1")} |
                     {"ci95": d[c].get("ci95")} for c in ("strict", "partial")},
           "per_label": {lab: {"strict_f1": round(v["f1"], 4), "support": v["support"]}
                         for lab, v in d["strict"]["per_label"].items()}}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-docs", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)

    from imner import corpora
    from imner.config import RESOURCES, data_path
    from imner.taggers import load_tagger
    from imner.training import load_train_config, role_documents, train_from_config

    pubtator = data_path("bc5cdr", "pubtator")
    train_file = pubtator / "CDR_TrainingSet.PubTator.txt"
    held_out = pubtator / "CDR_DevelopmentSet.PubTator.txt"
    res: dict = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "commit": git_commit(),
                 "command": "python benchmarks/user_finetune.py " + " ".join(argv or sys.argv[1:]),
                 "train_docs": args.train_docs, "epochs": args.epochs, "models": {}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runs = {"fine-tuned from the default": ("finetuned", 'init = "default"', "", 0.0005),
                "fine-tuned, init_fill = true": ("finetuned-fill", 'init = "default"', "init_fill = true", 0.0005),
                "from scratch": ("scratch", "", "", 0.001)}
        configs = {}
        for name, (slug, init, fill, lr) in runs.items():
            configs[name] = _config(tmp, slug, init, fill, lr, args, train_file, held_out)
            t0 = time.perf_counter()
            summary = train_from_config(load_train_config(configs[name]), progress=lambda m: print(m, flush=True))
            res["models"][name] = {"train_seconds": round(time.perf_counter() - t0, 1),
                                   "epochs_run": summary["training"]["tagger_stats"].get("epochs_run"),
                                   "best_epoch": summary["training"]["tagger_stats"].get("best_epoch"),
                                   "dir": f"{slug}-onnx"}
        cfg = load_train_config(configs["fine-tuned from the default"])
        team_test = role_documents(cfg, "test")
        imd_dev = corpora.load("imd-cases", "dev")
        taggers = {"shipped default": load_tagger(RESOURCES / "models" / "default"),
                   **{name: load_tagger(tmp / f"{slug}-onnx") for name, (slug, *_) in runs.items()}}
        res["team_test"] = {"documents": len(team_test), "spans": sum(len(d.spans) for d in team_test)}
        res["imd_cases_dev"] = {"documents": len(imd_dev)}
        blank_team = [d.with_spans(()) for d in team_test]
        blank_imd = [d.with_spans(()) for d in imd_dev]
        for name, tagger in taggers.items():
            entry = res["models"].setdefault(name, {})
            entry["team_test"] = _scores(team_test, tagger.annotate(blank_team), labels=["MEDICATION"])
            if name != "from scratch":  # the scratch model learnt MEDICATION only
                entry["imd_cases_dev"] = _scores(imd_dev, tagger.annotate(blank_imd))
            print(name, json.dumps(entry["team_test"]["micro"]["strict"]), flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "user_finetune.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    md = ["# Training on a team's own annotations: fine-tuning the default vs from scratch", "",
          f"- date: {res['date']}; machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
          f"- git commit: {res['commit']}; command: `{res['command'].strip()}`",
          f"- team data: BC5CDR training abstracts as a PubTator file, Chemical -> MEDICATION, Disease ignored; "
          f"{args.train_docs} train documents, {args.epochs} epochs at most; team test: BC5CDR development set "
          f"({res['team_test']['documents']} abstracts, {res['team_test']['spans']} MEDICATION spans)", "",
          "| model | train s | MEDICATION strict F1 [95% CI] | partial F1 | imd-cases dev micro strict F1 |",
          "|---|---|---|---|---|"]
    for name in taggers:
        m = res["models"][name]
        s, p = m["team_test"]["micro"]["strict"], m["team_test"]["micro"]["partial"]
        ci = s.get("ci95") or [float("nan"), float("nan")]
        imd = m.get("imd_cases_dev", {}).get("micro", {}).get("strict", {}).get("f1")
        md.append(f"| {name} | {m.get('train_seconds', '')} | {s['f1']:.3f} [{ci[0]:.3f}-{ci[1]:.3f}] | "
                  f"{p['f1']:.3f} | {'' if imd is None else f'{imd:.3f}'} |")
    md += ["", "Per class on imd-cases dev (strict F1, support): the shipped default and the two fine-tuned models:", "",
           "| class | default | fine-tuned | fine-tuned, init_fill | support |", "|---|---|---|---|---|"]
    base = res["models"]["shipped default"]["imd_cases_dev"]["per_label"]
    tuned = res["models"]["fine-tuned from the default"]["imd_cases_dev"]["per_label"]
    filled = res["models"]["fine-tuned, init_fill = true"]["imd_cases_dev"]["per_label"]
    for lab in sorted(base):
        md.append(f"| {lab} | {base[lab]['strict_f1']:.3f} | {tuned.get(lab, {}).get('strict_f1', 0.0):.3f} | "
                  f"{filled.get(lab, {}).get('strict_f1', 0.0):.3f} | {base[lab]['support']} |")
    (RESULTS / "user_finetune.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
