"""Throughput, latency and memory of `imner serve` under load: an async httpx loop against 127.0.0.1.

    python benchmarks/serve.py [--workers 1] [--seconds 15] [--max-requests 2000]

Starts `imner serve` in a subprocess on a free 127.0.0.1 port with its default limits, waits for /health, then runs
closed-loop clients (each sends its next request when the last one is answered) at 1, 4 and 16 concurrent clients,
and at twice the saturation point. Each level is bounded in time (--seconds; three times that for the overload,
to see whether memory settles) and requests (--max-requests; three times that for the overload). One
request = one MACCROBAT2020 case report (the 200 texts in turn; examples/case_report.txt when $IMNER_DATA lacks
them), JSON, the full pipeline. A client that gets 503 waits 0.1 s before its next request.

The saturation point is the number of requests the server holds at once (workers x queue_size, 16 by default):
past it the server refuses with 503 instead of queueing. At twice that, 503s are expected; what must not happen
is a crash, an answer slower than the timeout limit, or memory that grows. The server's RSS (the process and its
children, from /proc) is sampled every 0.1 s.

Before the levels, every text is sent once (16 to a request): the lexicon caches fill during this first pass over
the corpus (RSS grows by about 100 MB, then stays flat on later passes), so the levels measure the steady state.

The machine is shared with other jobs: the whole run takes about three minutes and loads the CPUs fully while it runs.
Writes benchmarks/results/serve.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from statistics import quantiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402

import httpx  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def texts() -> tuple[str, list[str]]:
    try:
        from imner.config import data_path

        folder = data_path("maccrobat", "MACCROBAT2020")
        found = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
        if found:
            return f"MACCROBAT2020, {len(found)} case reports", found
    except Exception:  # noqa: BLE001 - no data here: the example report
        pass
    return "examples/case_report.txt", [(ROOT / "examples" / "case_report.txt").read_text(encoding="utf-8")]


def tree_rss(pid: int) -> int:
    """Resident memory in bytes of ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except OSError:
                continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, ()))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), tree_rss(self.pid)))
            time.sleep(self.every)

    def between(self, t0: float, t1: float) -> list[int]:
        return [r for t, r in self.samples if t0 <= t <= t1]


async def load_level(url: str, docs: list[str], clients: int, seconds: float, max_requests: int,
                     timeout: float) -> dict:
    results: list[tuple[int, float]] = []  # (status or -1 for a transport error, seconds)
    counter = {"next": 0}
    deadline = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline and counter["next"] < max_requests:
            i = counter["next"]
            counter["next"] += 1
            body = {"documents": [{"id": f"r{i}", "text": docs[i % len(docs)]}]}
            t0 = time.perf_counter()
            try:
                r = await http.post(url + "/v1/extract", json=body)
                status = r.status_code
            except httpx.HTTPError:
                status = -1
            results.append((status, time.perf_counter() - t0))
            if status == 503:  # refused: back off a little, as a client honouring Retry-After would
                await asyncio.sleep(0.1)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    t0 = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    elapsed = time.monotonic() - t0
    ok = sorted(s for st, s in results if st == 200)
    refused = sorted(s for st, s in results if st == 503)
    by_status: dict[str, int] = {}
    for st, _ in results:
        by_status[str(st)] = by_status.get(str(st), 0) + 1

    def pct(values: list[float]) -> dict:
        if len(values) < 2:
            return {"p50": values[0] if values else None, "p95": None, "p99": None, "max": max(values, default=None)}
        q = quantiles(values, n=100, method="inclusive")
        return {"p50": round(q[49], 4), "p95": round(q[94], 4), "p99": round(q[98], 4), "max": round(max(values), 4)}

    return {"clients": clients, "seconds": round(elapsed, 2), "requests": len(results), "ok": len(ok),
            "errors": len(results) - len(ok), "by_status": by_status,
            "requests_per_second": round(len(ok) / elapsed, 2), "latency_ok_s": pct(ok),
            "latency_503_s": pct(refused) if refused else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=15.0, help="per level (default 15)")
    ap.add_argument("--max-requests", type=int, default=2000, help="per level (default 2000)")
    args = ap.parse_args()

    from imner.serve.settings import ServeSettings

    settings = ServeSettings()
    corpus, docs = texts()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "imner.cli", "serve", "--port", str(port), "--workers", str(args.workers),
           "--log-level", "warning"]
    info = run_info("python benchmarks/serve.py " + " ".join(sys.argv[1:]))
    t_start = time.monotonic()
    server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        while True:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() - t_start > 120:
                raise SystemExit(f"server did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        ready_seconds = time.monotonic() - t_start
        rss_idle = tree_rss(server.pid)
        # warm-up: every text once (16 to a request), so that the lexicon caches have seen the corpus and the levels
        # measure the steady state; memory grows during this first pass (about 270 MB in-process), then stays
        t_warm = time.monotonic()
        for i in range(0, len(docs), 16):
            batch = [{"id": f"w{j}", "text": t} for j, t in enumerate(docs[i:i + 16], start=i)]
            r = httpx.post(url + "/v1/extract", json={"documents": batch}, timeout=settings.timeout_seconds + 30)
            r.raise_for_status()
        warm_seconds = time.monotonic() - t_warm
        rss_warm = tree_rss(server.pid)
        saturation = args.workers * settings.queue_size
        levels = []
        for clients in (1, 4, 16, 2 * saturation):
            t0 = time.monotonic()
            mult = 3 if clients > saturation else 1  # the overload runs longer, to see memory settle or grow
            res = asyncio.run(load_level(url, docs, clients, mult * args.seconds, mult * args.max_requests,
                                         settings.timeout_seconds + 30))
            window = sampler.between(t0, time.monotonic())
            res["rss_peak_mb"] = round(max(window) / 2**20, 1)
            res["rss_end_mb"] = round(window[-1] / 2**20, 1)
            # RSS over the level, one value (the highest) per tenth of it: growth shows as a rising series
            tenth = max(1, len(window) // 10)
            res["rss_timeline_mb"] = [round(max(window[i:i + tenth]) / 2**20, 1) for i in range(0, len(window), tenth)]
            res["overload"] = clients > saturation
            levels.append(res)
            print(f"{clients:>3} clients: {res['requests_per_second']} req/s, p50 {res['latency_ok_s']['p50']} s, "
                  f"errors {res['by_status']}, peak RSS {res['rss_peak_mb']} MB", flush=True)
        # memory after the overload: is it back near where it was, or still growing?
        time.sleep(2)
        rss_after = tree_rss(server.pid)
        health_after = httpx.get(url + "/health").status_code
        alive = server.poll() is None
    finally:
        sampler.stop.set()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    over = levels[-1]
    below = levels[:-1]
    checks = {
        "no errors below the limits": all(lv["errors"] == 0 for lv in below),
        "server alive and healthy after the overload": alive and health_after == 200,
        "no answer slower than timeout_seconds": all((lv["latency_ok_s"]["max"] or 0) <= settings.timeout_seconds
                                                     for lv in levels),
        "only 200 and 503 under overload": set(over["by_status"]) <= {"200", "503"},
        # growing memory = still rising while the overload goes on: the highest RSS of its last third against that
        # of its first third, and the RSS after it against the RSS after the warm-up
        "memory not growing under the overload (last third within 5% of the first third)":
            max(over["rss_timeline_mb"][-3:]) <= 1.05 * max(over["rss_timeline_mb"][:3]),
        "memory after the overload within 10% of that after the warm-up": rss_after <= 1.1 * rss_warm,
    }
    res = {"run": info, "corpus": corpus, "workers": args.workers, "limits": settings.limits(),
           "saturation_clients": saturation, "ready_seconds": round(ready_seconds, 2),
           "rss_idle_mb": round(rss_idle / 2**20, 1), "warm_up_seconds": round(warm_seconds, 1),
           "rss_after_warm_up_mb": round(rss_warm / 2**20, 1), "rss_after_overload_mb": round(rss_after / 2**20, 1),
           "levels": levels, "checks": checks}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    md = header("imner serve under load", info)
    md += [f"- server: `imner serve --workers {args.workers}`, default limits {settings.limits()}",
           f"- requests: one document each ({corpus}), JSON, full pipeline; closed-loop clients, at most "
           f"{args.seconds:g} s and {args.max_requests} requests per level (three times that for the overload); a client "
           "answered 503 waits 0.1 s before its next request; the load generator runs on the same machine",
           f"- ready (model loaded and warmed up) {res['ready_seconds']} s after start; RSS idle "
           f"{res['rss_idle_mb']} MB; after a warm-up pass over every text (16 to a request, "
           f"{res['warm_up_seconds']} s) {res['rss_after_warm_up_mb']} MB", "",
           "| clients | requests | req/s | p50 s | p95 s | p99 s | max s | errors | server peak RSS MB |",
           "|---|---|---|---|---|---|---|---|---|"]
    for lv in levels:
        lat = lv["latency_ok_s"]
        errs = ", ".join(f"{n}×{st}" for st, n in sorted(lv["by_status"].items()) if st != "200") or "0"
        md.append(f"| {lv['clients']}{' (2× saturation)' if lv['overload'] else ''} | {lv['requests']} | "
                  f"{lv['requests_per_second']} | {lat['p50']} | {lat['p95']} | {lat['p99']} | {lat['max']} | "
                  f"{errs} | {lv['rss_peak_mb']} |")
    if over["latency_503_s"]:
        md += ["", f"503 answers at {over['clients']} clients: p50 {over['latency_503_s']['p50']} s, "
                   f"p99 {over['latency_503_s']['p99']} s."]
    md += ["", f"RSS during the overload, the highest of each tenth of it (MB): "
               f"{', '.join(map(str, over['rss_timeline_mb']))}; 2 s after it: {res['rss_after_overload_mb']} MB.",
           "", "Checks:", ""]
    md += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in checks.items()]
    (RESULTS / "serve.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
