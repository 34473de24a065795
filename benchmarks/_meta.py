"""What every benchmark records: date, machine, load and git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

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


def run_info(command: str) -> dict:
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
            "load_average_start": [round(x, 2) for x in os.getloadavg()],
            "commit": git_commit(), "command": command}


def header(title: str, info: dict) -> list[str]:
    return [f"# {title}", "", f"- date: {info['date']}", f"- machine: {info['machine']}",
            f"- load average at start: {', '.join(map(str, info['load_average_start']))}",
            f"- commit: {info['commit']}", f"- command: `{info['command']}`", ""]
