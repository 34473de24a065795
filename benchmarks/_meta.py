"""What every benchmark records: date, machine, load and git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def git_commit() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=ROOT).stdout.strip()
        return rev + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def git_head() -> str:
    """The full hash of HEAD; "unknown" outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def uncommitted_files(*paths: str) -> list[str]:
    """The files under ``paths`` (relative to the repository root) that differ from HEAD, untracked included."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", *paths], capture_output=True, text=True,
                             cwd=ROOT).stdout
    except OSError:
        return []
    return [line[3:] for line in out.splitlines()]


def machine(**extra: Any) -> dict[str, Any]:
    """Platform, python version, CPU count and processor (then ``extra``), as the JSON results record them."""
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), **extra}


def metric_scores(metrics: dict) -> dict:
    """Micro precision, recall and F1 (4 decimals) and the 95% interval of each criterion, from one
    ``<role>_metrics`` block of a :func:`imner.training.train_from_config` summary."""
    out = {}
    for crit in ("strict", "exact", "partial", "type"):
        m = metrics[crit]["micro"]
        out[crit] = {"precision": round(m["precision"], 4), "recall": round(m["recall"], 4),
                     "f1": round(m["f1"], 4), "ci95": metrics[crit].get("ci95")}
    return out


def split_results(summary: dict, n_tokens: dict[str, int], roles: tuple[str, ...] = ("dev", "test")) -> dict:
    """Per role: documents, tokens, predict seconds, tokens/s and :func:`metric_scores` from a
    :func:`imner.training.train_from_config` summary (``n_tokens``: tokens per role)."""
    out = {}
    for role in roles:
        m = summary[f"{role}_metrics"]
        out[role] = {"documents": m["documents"], "tokens": n_tokens[role], "predict_seconds": m["predict_seconds"],
                     "tokens_per_second": round(n_tokens[role] / m["predict_seconds"]), "scores": metric_scores(m)}
    return out


def split_table(res: dict, roles: tuple[str, ...] = ("dev", "test")) -> list[str]:
    """Markdown rows (header first) of the :func:`split_results` entries of ``res``."""
    md = ["| split | docs | strict P | strict R | strict F1 (95% CI) | exact F1 | partial F1 | predict tokens/s |",
          "|---|---|---|---|---|---|---|---|"]
    for role in roles:
        r = res[role]
        s = r["scores"]
        ci = s["strict"]["ci95"]
        ci_text = f" ({ci[0]:.3f}-{ci[1]:.3f})" if ci else ""
        md.append(f"| {role} | {r['documents']} | {s['strict']['precision']:.4f} | {s['strict']['recall']:.4f} | "
                  f"{s['strict']['f1']:.4f}{ci_text} | {s['exact']['f1']:.4f} | {s['partial']['f1']:.4f} | "
                  f"{r['tokens_per_second']:,} |")
    return md


def run_info(command: str) -> dict:
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
            "load_average_start": [round(x, 2) for x in os.getloadavg()],
            "commit": git_commit(), "command": command}


def header(title: str, info: dict) -> list[str]:
    return [f"# {title}", "", f"- date: {info['date']}", f"- machine: {info['machine']}",
            f"- load average at start: {', '.join(map(str, info['load_average_start']))}",
            f"- commit: {info['commit']}", f"- command: `{info['command']}`", ""]
