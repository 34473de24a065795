"""Nothing imner runs by default talks to the network (issue 10): ``imner extract``, ``evaluate`` and ``corpus`` run
in a subprocess whose sockets are blocked (``socket.socket``'s connect and ``socket.create_connection`` /
``getaddrinfo`` patched before imner is imported) and every attempt is recorded. Only the LLM tagger and the
server open sockets, and only when asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "case_report.txt"

GUARD = r"""
import json, socket, sys
attempts = []
def _blocked(kind):
    def fail(*args, **kwargs):
        attempts.append([kind, repr(args[1:] if kind == "connect" else args)[:120]])
        raise OSError(101, "network blocked by the imner isolation test")
    return fail
socket.socket.connect = _blocked("connect")
socket.socket.connect_ex = _blocked("connect")
socket.socket.sendto = _blocked("connect")
socket.create_connection = _blocked("create_connection")
socket.getaddrinfo = _blocked("getaddrinfo")
from imner.cli import main
codes = []
for argv in json.loads(sys.argv[1]):
    try:
        codes.append(main(argv))
    except SystemExit as e:
        codes.append(e.code)
if sys.argv[2] == "probe":  # show that the guard works: an attempt is recorded
    try:
        socket.create_connection(("example.org", 80), timeout=1)
    except OSError:
        pass
print(json.dumps({"codes": codes, "attempts": attempts}))
"""


def _run(commands: list[list[str]], tmp_path: Path, probe: bool = False) -> dict:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "IMNER_DATA": str(Path(__import__("imner.config", fromlist=["data_dir"]).data_dir())),
           "NO_PROXY": "*", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", GUARD, json.dumps(commands), "probe" if probe else "-"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_extract_evaluate_and_corpus_make_no_network_call(tmp_path):
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    commands = [
        ["extract", str(EXAMPLE), "-q", "--include-text", "-o", str(gold)],
        ["extract", str(gold), "-q", "-f", "brat", "-o", str(tmp_path / "ann")],
        ["evaluate", "--gold", str(gold), "--pred", str(tmp_path / "ann"), "--bootstrap", "50"],
        ["corpus", "list", "--json"],
    ]
    res = _run(commands, tmp_path)
    assert res["codes"] == [0, 0, 0, 0]
    assert res["attempts"] == []
    assert gold.stat().st_size > 0 and (tmp_path / "ann" / "case_report.ann").exists()


def test_the_guard_records_an_attempt(tmp_path):
    """The test above can fail: a connection attempt under the same guard is recorded."""
    res = _run([], tmp_path, probe=True)
    assert res["attempts"] and res["attempts"][0][0] == "create_connection"
