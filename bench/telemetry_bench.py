"""Telemetry cost (issue 18), ours against Python Strands 1.62 + bedrock-agentcore 1.25 in one run.

The JSON tool turn (scenario b: two cycles, one tool) at c=8 with wrk, pinned as in scripts/bench
(server on core 0, wrk on core 1), four ways per side:

  off        no exporter configured (ours: no Telemetry, nothing built; Python: no tracer provider
             set, its spans are non-recording)
  on         spans and metrics exported over OTLP/HTTP protobuf to a local receiver (ours: the
             binary's pipeline, batch span processor and periodic metric reader; Python:
             StrandsTelemetry().setup_otlp_exporter() and setup_meter(enable_otlp_exporter=True),
             the documented way)

The receiver (this process's thread, on core 1) answers every POST 200 and counts spans' bytes.
Writes bench/results/telemetry.{json,md}.

  scripts/bench-telemetry [--seconds N] [--reps N]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import baseline
import run as R

h = baseline.harness
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


class Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP sink: reads the body, answers an empty ExportServiceResponse."""

    received = {"requests": 0, "bytes": 0}
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with self.lock:
            Receiver.received["requests"] += 1
            Receiver.received["bytes"] += len(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def python_cmd(on: bool) -> list[str]:
    """app.py, or app.py with Strands' OTLP telemetry set up first (bench/telemetry_app.py)."""
    app = HERE / "telemetry_app.py" if on else R.BASELINE / "app.py"
    return [h.PY, str(app)]


def measure(side: str, on: bool, exe: dict, endpoint: str, seconds: int) -> dict:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint} if on else {}
    if on:
        # Python's periodic metric reader defaults to 60 s; the same interval both sides.
        env["OTEL_METRIC_EXPORT_INTERVAL"] = "60000"
        # StrandsTelemetry exports spans and metrics, not log lines: the same here.
        env["OTEL_LOGS_EXPORTER"] = "none"
    mode = "fresh" if side == "ours" else "async-fresh"
    server = R.Server(side, mode, exe, extra_env=env)
    if side == "python":
        server.cmd = python_cmd(on)
    before = dict(Receiver.received)
    with server as s:
        h.run_wrk("b", 8, 2, server_pid=s.proc.pid)  # warm-up
        cpu0 = s.cpu_seconds()
        d = R.measure_cell("b", 8, seconds, s.proc.pid, 1)
        d["server_cpu_s"] = round(s.cpu_seconds() - cpu0, 2)
        d["rss_kib_after"] = s.status().get("VmRSS")
    time.sleep(0.5)  # the flush at stop
    d["export_requests"] = Receiver.received["requests"] - before["requests"]
    d["export_bytes"] = Receiver.received["bytes"] - before["bytes"]
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--bench-server", default=str(R.ROOT / "target/release/examples/bench_server"))
    args = ap.parse_args()
    h.prioritize_self(h.CLIENT_CPUS)
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    exe = {"bench_server": args.bench_server}
    runs: dict = {}
    for rep in range(args.reps):
        for side in ("ours", "python"):
            for on in (False, True):
                label = f"{side}:{'on' if on else 'off'}"
                d = measure(side, on, exe, endpoint, args.seconds)
                d["rep"] = rep
                runs.setdefault(label, []).append(d)
                R.log(f"   {label:11s} rep{rep}: {d['rps']:9.1f} req/s  p99 {d['lat_p99_us'] / 1000:7.3f} ms"
                      f"  errors {d['errors_total']}  exports {d['export_requests']} ({d['export_bytes']} B)"
                      f"  neighbours {d['foreign_cpu_frac']:.1%}")
    summary = {label: {k: h.summarize([r[k] for r in rs]) for k in ("rps", "lat_p99_us", "errors_total")}
               for label, rs in runs.items()}
    for label, rs in runs.items():
        summary[label]["export_requests"] = sum(r["export_requests"] for r in rs)
    res = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": R.machine(), "seconds": args.seconds,
           "reps": args.reps, "summary": summary, "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "telemetry.json").write_text(json.dumps(res, indent=1))
    (RESULTS / "telemetry.md").write_text(render(summary, args))
    print(render(summary, args))


def median(summary: dict, label: str, key: str) -> float:
    return summary[label][key]["median"]


def render(summary: dict, args) -> str:
    rows = ["| JSON tool turn, c=8 | req/s | p99 ms | export requests | telemetry's cost: throughput | per request (server CPU, µs) |",
            "|---|---|---|---|---|---|"]
    for side in ("ours", "python"):
        off = median(summary, f"{side}:off", "rps")
        for state in ("off", "on"):
            label = f"{side}:{state}"
            rps = median(summary, label, "rps")
            p99 = median(summary, label, "lat_p99_us") / 1000
            cost, per_request = "", ""
            if state == "on":
                cost = f"{(1 - rps / off) * 100:.1f}% fewer req/s"
                # The server is pinned to one core and saturated: time per request is 1 / req/s.
                per_request = f"{(1 / rps - 1 / off) * 1e6:,.0f}"
            rows.append(f"| {label} | {rps:,.0f} | {p99:.2f} | {summary[label]['export_requests']} | {cost} | {per_request} |")
    return (f"Telemetry on/off, {args.reps} x {args.seconds} s per cell, medians "
            f"({time.strftime('%Y-%m-%d')}; scripts/bench-telemetry)\n\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
