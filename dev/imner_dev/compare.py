"""``imner compare``: every available tagger on the same splits, one table and one plot.

A comparison config (``configs/compare.toml``) lists the evaluation sets and the systems::

    root = ".."              # optional: the folder relative paths below start from, itself relative to this
                             # file (default: the config's own folder); commands and training run there
    [[evaluation]]
    name = "imd-cases test"
    corpus = "imd-cases"
    split = "test"
    label_map = {...}        # optional: rename gold and predicted labels before scoring
    labels = ["Disease"]     # optional: score only these labels (after mapping)

    [[system]]
    name = "CRF"
    tagger = "crf.v1"                        # for untrained taggers: created with [system.params]
    requires_env = "IMNER_LLM_URL"           # optional: skipped (and said so) unless this variable is set
    needs = "models/embeddings/x"            # optional: a path the system needs, made by `prepare` (a command)
    prepare = ["python", "-m", "imner_dev.train_embeddings"]
    params = {model_dir = "$IMNER_GLINER_MODEL"}   # string params may name environment variables
    [system.models]                          # trained models, one per evaluation corpus
    imd-cases = {dir = "models/crf-imd", config = "configs/crf-imd.toml"}

So ``imner compare --config any/where/compare.toml`` works from any folder. A system runs on an evaluation when it has a model for that corpus (trained first from ``config`` when
the directory is missing and ``--train`` is on) or is an untrained ``tagger``; ``model = "default"``
means the shipped default model. Every skipped cell is listed with its reason, never dropped silently.
Scores: strict and partial micro-F1 with bootstrap 95% intervals, strict F1 per class, and tokens per
second of ``predict`` (imner.text tokens / wall-clock seconds, one process).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from imner.configkit import check_keys, read_toml
from imner.errors import ConfigError
from imner.text import tokenize
from imner_dev import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from _meta import git_commit  # noqa: E402  (the one git helper of every benchmark)
from _meta import machine as _machine  # noqa: E402

_TOP_KEYS = ("root", "evaluation", "system", "target")
_EVAL_KEYS = ("name", "corpus", "split", "label_map", "labels")
_SYSTEM_KEYS = ("name", "tagger", "params", "models", "model", "requires_env", "note", "needs", "prepare")
_TARGET_KEYS = ("system", "evaluation", "strict_f1", "closing")
#: the comparison of the README, and where its results go
DEFAULT_CONFIG = REPO_ROOT / "configs" / "compare.toml"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Evaluation:
    name: str
    corpus: str
    split: str
    label_map: Mapping[str, str] | None = None
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class System:
    name: str
    tagger: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    models: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    model: str | None = None
    requires_env: str | None = None
    note: str = ""
    needs: str | None = None
    prepare: tuple[str, ...] = ()


def config_root(path: str | Path, data: Mapping[str, Any] | None = None) -> Path:
    """The folder the relative paths of comparison config ``path`` start from (its ``root`` key)."""
    path = Path(path).resolve()
    data = read_toml(path, "comparison config") if data is None else data
    root = data.get("root", ".")
    if not isinstance(root, str):
        raise ConfigError(f"{path}: root must be a path string, got {root!r}")
    return (path.parent / root).resolve()


def load_compare_config(path: str | Path) -> tuple[list[Evaluation], list[System]]:
    """The evaluations and systems of a comparison config, relative paths resolved against its root."""
    path = Path(path)
    data = read_toml(path, "comparison config")
    where = str(path)
    check_keys(data, _TOP_KEYS, where)
    root = config_root(path, data)

    def here(p: str | None) -> str | None:
        return None if p is None else str(root / os.path.expandvars(p))

    evals, systems = [], []
    for i, e in enumerate(data.get("evaluation", [])):
        check_keys(e, _EVAL_KEYS, f"{where}: evaluation {i + 1}", required=("corpus", "split"))
        evals.append(Evaluation(e.get("name", f"{e['corpus']} {e['split']}"), e["corpus"], e["split"],
                                e.get("label_map"), tuple(e["labels"]) if e.get("labels") else None))
    for i, s in enumerate(data.get("system", [])):
        check_keys(s, _SYSTEM_KEYS, f"{where}: system {i + 1}", required=("name",))
        if not (s.get("tagger") or s.get("models") or s.get("model")):
            raise ConfigError(f"{where}: system {s['name']!r} needs 'tagger', 'model' or 'models'")
        models = {corpus: {k: here(v) if k in ("dir", "config") else v for k, v in spec.items()}
                  for corpus, spec in s.get("models", {}).items()}
        model = s.get("model")
        systems.append(System(s["name"], s.get("tagger"), s.get("params", {}), models,
                              model if model in (None, "default") else here(model), s.get("requires_env"),
                              s.get("note", ""), here(s.get("needs")), tuple(s.get("prepare", ()))))
    if not evals or not systems:
        raise ConfigError(f"{where}: needs at least one [[evaluation]] and one [[system]]")
    for i, t in enumerate(data.get("target", [])):
        check_keys(t, _TARGET_KEYS, f"{where}: target {i + 1}")
    return evals, systems


def load_targets(path: str | Path) -> list[dict[str, Any]]:
    """``[[target]]`` tables: a system's strict micro-F1 goal on one evaluation, and what would close a gap."""
    return list(read_toml(path, "comparison config").get("target", []))


def machine() -> str:
    m = _machine()
    return f"{m['platform']}, {m['cpu_count']} CPUs, python {m['python']}"


def _resolve_tagger(system: System, ev: Evaluation, train: bool, log: Callable[[str], None], root: Path):
    """(tagger, None) or (None, reason-for-skipping). Preparing and training run in ``root``."""
    from imner.taggers import create, load_tagger

    if system.requires_env and not os.environ.get(system.requires_env):
        return None, f"set {system.requires_env} to run"
    if system.needs and not Path(system.needs).exists():
        if not (train and system.prepare):
            return None, f"{system.needs} is missing; run `{' '.join(system.prepare) or '?'}`"
        log(f"[compare] preparing {system.name}: {' '.join(system.prepare)}")
        cmd = list(system.prepare)
        if cmd[0] in ("python", "python3"):  # the interpreter imner runs in, whatever is on PATH
            cmd[0] = sys.executable
        subprocess.run(cmd, check=True, cwd=root)
    if system.model == "default":
        from imner.pipeline import default_tagger

        return default_tagger(), None
    if system.model:
        return load_tagger(system.model), None
    spec = system.models.get(ev.corpus)
    if spec is not None:
        directory = Path(spec["dir"])
        if not (directory / "config.json").is_file():
            if not (train and spec.get("config")):
                return None, f"no model at {directory}; run `imner train --config {spec.get('config', '?')}`"
            from imner.training import load_train_config, train_from_config

            log(f"[compare] training {system.name} for {ev.corpus}: imner train --config {spec['config']}")
            with contextlib.chdir(root):  # a training config's relative paths (embeddings...) start there
                train_from_config(load_train_config(spec["config"]), output=directory, progress=log)
        return load_tagger(directory), None
    if system.tagger:
        params = {k: os.path.expandvars(v) if isinstance(v, str) else v for k, v in system.params.items()}
        return create(system.tagger, **params), None
    return None, f"no model for {ev.corpus}"


def run_comparison(config: str | Path, *, train: bool = True, bootstrap: int = 1000,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    from imner import corpora
    from imner.evaluate import evaluate

    evals, systems = load_compare_config(config)
    root = config_root(config)
    shown = os.path.relpath(Path(config).resolve(), REPO_ROOT) if Path(config).resolve().is_relative_to(REPO_ROOT) \
        else str(config)
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
        "commit": git_commit(), "config": shown, "evaluations": [], "skipped": [],
        "targets": load_targets(config)}
    for ev in evals:
        gold = corpora.load(ev.corpus, ev.split)
        blank = [d.with_spans(()) for d in gold]
        n_tokens = sum(len(tokenize(d.text)) for d in gold)
        rows = []
        for system in systems:
            try:
                tagger, reason = _resolve_tagger(system, ev, train, log, root)
            except Exception as e:  # a broken system is reported, the comparison goes on
                tagger, reason = None, f"failed to load: {type(e).__name__}: {e}"
            if tagger is None:
                results["skipped"].append({"system": system.name, "evaluation": ev.name, "reason": reason})
                log(f"[compare] {system.name} on {ev.name}: skipped ({reason})")
                continue
            log(f"[compare] {system.name} on {ev.name}: predicting {len(gold)} documents")
            t0 = time.perf_counter()
            try:
                pred = tagger.annotate(blank)
            except Exception as e:
                results["skipped"].append({"system": system.name, "evaluation": ev.name,
                                           "reason": f"failed: {type(e).__name__}: {e}"})
                log(f"[compare] {system.name} on {ev.name}: failed ({e})")
                continue
            seconds = time.perf_counter() - t0
            report = evaluate(gold, pred, labels=ev.labels, label_map=ev.label_map, bootstrap=bootstrap)
            d = report.to_dict()
            rows.append({
                "system": system.name, "note": system.note,
                "strict": d["strict"]["micro"], "strict_ci95": d["strict"]["ci95"],
                "partial": d["partial"]["micro"], "partial_ci95": d["partial"]["ci95"],
                "per_label_strict_f1": {k: v["f1"] for k, v in d["strict"]["per_label"].items()},
                "tokens": n_tokens, "seconds": seconds, "tokens_per_s": n_tokens / seconds if seconds else None,
            })
            log(f"[compare]   strict F1 {rows[-1]['strict']['f1']:.3f}, partial F1 "
                f"{rows[-1]['partial']['f1']:.3f}, {rows[-1]['tokens_per_s']:,.0f} tokens/s")
        results["evaluations"].append({"name": ev.name, "corpus": ev.corpus, "split": ev.split,
                                       "documents": len(gold), "tokens": n_tokens, "rows": rows})
    return results


def _ci(ci) -> str:
    return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else "–"


def format_markdown(results: Mapping[str, Any], plot_names: list[str]) -> str:
    out = ["# Tagger comparison", "",
           f"- date: {results['date']}", f"- machine: {results['machine']}", f"- commit: {results['commit']}",
           f"- command: `imner compare --config {results['config']}`", "",
           "Train on train, choose on dev, report test. Strict: same boundaries and label; partial: overlapping "
           "spans, any label, half credit unless the boundaries are the same (nervaluate's partial; imner.evaluate). 95% intervals: bootstrap over documents. Tokens/s: imner.text "
           "tokens over the wall-clock time of `predict` on the whole split, one process, this machine.", ""]
    for name in plot_names:
        out += [f"![{name}]({name})", ""]
    for ev in results["evaluations"]:
        out += [f"## {ev['name']} ({ev['documents']} documents, {ev['tokens']:,} tokens)", "",
                "| system | strict P | strict R | strict F1 (95% CI) | partial F1 (95% CI) | tokens/s |",
                "|---|---|---|---|---|---|"]
        for r in sorted(ev["rows"], key=lambda r: -r["strict"]["f1"]):
            out.append(f"| {r['system']} | {r['strict']['precision']:.3f} | {r['strict']['recall']:.3f} | "
                       f"**{r['strict']['f1']:.3f}** ({_ci(r['strict_ci95'])}) | {r['partial']['f1']:.3f} "
                       f"({_ci(r['partial_ci95'])}) | {r['tokens_per_s']:,.0f} |")
        labels = sorted({lab for r in ev["rows"] for lab in r["per_label_strict_f1"]})
        if len(labels) > 1 and ev["rows"]:
            out += ["", "Strict F1 per class:", "",
                    "| class | " + " | ".join(r["system"] for r in ev["rows"]) + " |",
                    "|---|" + "---|" * len(ev["rows"])]
            for lab in labels:
                out.append(f"| {lab} | " + " | ".join(
                    f"{r['per_label_strict_f1'][lab]:.3f}" if lab in r["per_label_strict_f1"] else "–"
                    for r in ev["rows"]) + " |")
        out.append("")
    if results.get("targets"):
        out += ["## Targets", "", "| system | evaluation | target strict F1 | measured | gap | what would close it |",
                "|---|---|---|---|---|---|"]
        for t in results["targets"]:
            ev = next((e for e in results["evaluations"] if e["name"] == t["evaluation"]), None)
            row = next((r for r in (ev or {}).get("rows", []) if r["system"] == t["system"]), None)
            got = row["strict"]["f1"] if row else None
            gap = "not run" if got is None else ("met" if got >= t["strict_f1"] else f"{got - t['strict_f1']:+.3f}")
            out.append(f"| {t['system']} | {t['evaluation']} | {t['strict_f1']:.2f} | "
                       f"{'–' if got is None else f'{got:.3f}'} | {gap} | {t.get('closing', '')} |")
        out.append("")
    if results["skipped"]:
        out += ["## Not run", "", "| system | evaluation | why |", "|---|---|---|"]
        out += [f"| {s['system']} | {s['evaluation']} | {s['reason']} |" for s in results["skipped"]]
        out.append("")
    return "\n".join(out)


def plot(results: Mapping[str, Any], path: Path) -> Path | None:
    """Strict and partial micro-F1 with 95% intervals, one panel per evaluation (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    evs = [e for e in results["evaluations"] if e["rows"]]
    if not evs:
        return None
    fig, axes = plt.subplots(1, len(evs), figsize=(6 * len(evs), 0.6 * max(len(e["rows"]) for e in evs) + 1.8),
                             squeeze=False)
    for ax, ev in zip(axes[0], evs):
        rows = sorted(ev["rows"], key=lambda r: r["strict"]["f1"])
        ys = range(len(rows))
        for offset, crit, colour in ((-0.18, "strict", "#1f77b4"), (0.18, "partial", "#aec7e8")):
            vals = [r[crit]["f1"] for r in rows]
            cis = [r[f"{crit}_ci95"] or (v, v) for r, v in zip(rows, vals)]
            err = [[v - lo for v, (lo, _) in zip(vals, cis)], [hi - v for v, (_, hi) in zip(vals, cis)]]
            ax.barh([y + offset for y in ys], vals, height=0.34, xerr=err, color=colour, label=f"{crit} F1",
                    capsize=2)
        ax.set_yticks(list(ys), [r["system"] for r in rows])
        ax.set_xlim(0, 1)
        ax.set_title(ev["name"])
        ax.set_xlabel("micro F1 (95% CI)")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(results: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "comparison.json"]
    written[0].write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    png = plot(results, out_dir / "comparison.png")
    plots = [png.name] if png else []
    md = out_dir / "comparison.md"
    md.write_text(format_markdown(results, plots), encoding="utf-8")
    return written + ([png] if png else []) + [md]
