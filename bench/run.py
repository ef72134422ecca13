"""The benchmark suite against the Python incumbent (driven by scripts/bench; see docs/performance.md).

Runs OUR server (crates/strands-runtime/examples/bench_server.rs on the real AgentCoreApp, and the
strands-runtime binary for start-up) and the PYTHON server (python-baseline/app.py) side by side in
one run, with the baseline's own harness: same fake model output, same load tool and Lua scripts,
same pinning (server on core 0, load generator on core 1) and nice -20, same neighbour-CPU monitor.

Phases: build -> parity (bodies must match, else exit 2) -> cold start + idle RSS -> RSS under load
-> HTTP throughput/latency (wrk) -> SSE time to first text delta -> in-process micro-benchmarks.
Writes bench/results/latest.json (every run's numbers and the machine) and latest.md (the table).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import baseline
import parity

h = baseline.harness
BASELINE = baseline.BASELINE
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

PROFILES = {
    #          wrk s  reps warm s  cold starts  SSE requests  inproc (reps, round s)  divan samples  memory modes
    "quick": dict(wrk_s=1, reps=1, warm_s=1, cold=3, sse_n=60, sse_warm=10, inproc=(1, 0.2), divan=20,
                  memory=("fresh",), quiet_wait=0, retries=0),
    "default": dict(wrk_s=5, reps=1, warm_s=2, cold=5, sse_n=300, sse_warm=30, inproc=(3, 0.5), divan=100,
                    memory=("fresh",), quiet_wait=30, retries=1),
    "full": dict(wrk_s=15, reps=3, warm_s=3, cold=15, sse_n=300, sse_warm=30, inproc=(5, 1.5), divan=300,
                 memory=("fresh", "stream"), quiet_wait=600, retries=3),
}

CONNS = (1, 8, 64)
CLEAN_HOME = tempfile.mkdtemp(prefix="strands-bench-home-")  # no ~/.aws for the real binary
SCENARIO_NAMES = {"a": "text", "b": "tool", "p": "ping"}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- build

def cargo_executables(args: list[str]) -> dict[str, str]:
    """Run a cargo build with JSON messages; return {target name: executable path}."""
    cmd = ["cargo", *args, "--message-format=json-render-diagnostics"]
    log("$", " ".join(cmd))
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"build failed: {' '.join(cmd)}")
    exes = {}
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            exes[msg["target"]["name"]] = msg["executable"]
    return exes


def newest(pattern: str) -> str:
    """The newest executable file matching a glob under target/ (for --skip-build)."""
    found = [p for p in ROOT.glob(pattern) if p.is_file() and os.access(p, os.X_OK) and p.suffix == ""]
    if not found:
        sys.exit(f"--skip-build: nothing matches target glob {pattern}; build first")
    return str(max(found, key=lambda p: p.stat().st_mtime))


def build(skip: bool) -> dict:
    if skip:
        log("(--skip-build: using the newest executables in target/)")
        return {"binary": newest("target/release/strands-runtime"),
                "static": newest("target/static/*/release/strands-runtime"),
                "bench_server": newest("target/release/examples/bench_server"),
                "benches": {name: newest(f"target/release/deps/{name}-*")
                            for name in ("agent_turn", "serialization", "bedrock_decode")}}
    release = cargo_executables(["build", "--release", "-p", "strands-runtime", "--bin", "strands-runtime",
                                 "--example", "bench_server"])
    benches = {}
    for package, bench in (("strands-agent", "agent_turn"), ("strands-core", "serialization"),
                           ("strands-models", "bedrock_decode")):
        benches.update(cargo_executables(["bench", "--no-run", "-p", package, "--bench", bench]))
    # The binary as it ships (static, musl), for this machine's architecture: scripts/build-static.
    log("$ scripts/build-static")
    built = subprocess.run(["bash", str(ROOT / "scripts/build-static")], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE, text=True)
    static = str(ROOT / built.stdout.strip().splitlines()[-1])
    return {"binary": release["strands-runtime"], "static": static, "bench_server": release["bench_server"],
            "benches": benches}


# -------------------------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class Server:
    """One server process pinned like the harness's (core 0, nice -20), stderr to the log folder."""

    def __init__(self, side: str, mode: str, exe: dict, pin: bool = True, kind: str = "bench_server",
                 extra_env: dict | None = None):
        self.side, self.mode, self.kind, self.pin = side, mode, kind, pin
        self.port = free_port()
        if side == "python":  # as the baseline harness starts it
            self.cmd, self.cwd = [h.PY, str(BASELINE / "app.py")], str(BASELINE)
            env = dict(os.environ, BENCH_MODE=mode, PORT=str(self.port))
        elif kind in ("binary", "static"):  # the real strands-runtime, in the clean environment of scripts/bench-startup
            self.cmd, self.cwd = [exe[kind]], str(ROOT)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": CLEAN_HOME,
                   "HOST": "127.0.0.1", "PORT": str(self.port), "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "AKIDBENCHSTARTUP0001", "AWS_SECRET_ACCESS_KEY": "bench-startup-secret",
                   "AWS_EC2_METADATA_DISABLED": "true", "MODEL_ID": "us.anthropic.claude-sonnet-4-20250514-v1:0",
                   "LOG_LEVEL": "INFO"}
        else:
            self.cmd, self.cwd = [exe["bench_server"]], str(ROOT)
            env = dict(os.environ, BENCH_MODE=mode, PORT=str(self.port), HOST="127.0.0.1", LOG_LEVEL="INFO")
        self.env = {**env, **(extra_env or {})}
        self.proc: subprocess.Popen | None = None
        self.startup_ms: float | None = None

    @property
    def name(self) -> str:
        return f"{self.side}:{self.kind if self.side == 'ours' else 'app.py'}:{self.mode}"

    def start(self, poll_s: float = 0.00025, timeout: float = 30.0) -> float:
        h.LOGS.mkdir(parents=True, exist_ok=True)
        log_path = h.LOGS / f"{self.side}-{self.kind}-{self.mode}.log"
        cmd = h.pinned(self.cmd, h.SERVER_CPUS) if self.pin else h.prio(self.cmd)
        with open(log_path, "ab") as log_file:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early (rc={self.proc.returncode}); see {log_path}")
            if raw_ping(self.port):
                self.startup_ms = (time.perf_counter() - t0) * 1000
                h.PORT = self.port  # the harness helpers (wrk, hey, SSE client) talk to h.PORT
                return self.startup_ms
            time.sleep(poll_s)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /ping within {timeout} s")

    def status(self) -> dict:
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                    out[key] = int(value.split()[0])
        return out

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def post(port: int, body: str) -> tuple[int, str, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/invocations", body=body.encode(), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("content-type", ""), data


# --------------------------------------------------------------------------------------------- phases

def phase_parity(exe: dict) -> dict:
    """Bodies of the text and tool turns: JSON byte-identical, SSE events identical after masking."""
    log("== parity: our bodies vs the incumbent's")
    bodies: dict = {}
    for side, mode in (("ours", "fresh"), ("python", "async-fresh"), ("python", "sync-fresh"),
                       ("ours", "stream"), ("python", "stream")):
        with Server(side, mode, exe) as s:
            for sc in "ab":
                status, ctype, data = post(s.port, h.BODIES[sc])
                if status != 200:
                    sys.exit(f"PARITY FAILURE: {s.name} answered HTTP {status} to {h.BODIES[sc]}: {data[:300]!r}")
                bodies[(side, mode, sc)] = (ctype, data)
    failures, report = [], {}
    for sc in "ab":
        ours = bodies[("ours", "fresh", sc)][1]
        for mode in ("async-fresh", "sync-fresh"):
            diff = parity.json_diff(ours, bodies[("python", mode, sc)][1])
            if diff:
                failures.append(f"JSON body, scenario {sc}, vs python {mode}:\n{diff}")
        ours_sse = bodies[("ours", "stream", sc)][1].decode()
        live = bodies[("python", "stream", sc)][1].decode()
        shipped_name = {"a": "sse-example-text-turn.txt", "b": "sse-example-tool-turn.txt"}[sc]
        shipped = (BASELINE / shipped_name).read_text()
        for label, python_sse in (("live python stream", live), (shipped_name, shipped)):
            diff = parity.sse_diff(ours_sse, python_sse, "ours", label)
            if diff:
                failures.append(f"SSE events, scenario {sc}, vs {label}:\n{diff}")
        report[sc] = {
            "json_body_bytes": len(ours), "json_identical": True,
            "sse_events_compared": len(parity.normalize_sse(ours_sse)),
            "sse_body_bytes": {"ours": len(ours_sse.encode()), "python": len(live.encode())},
            "sse_frames": {"ours": ours_sse.count("data: "), "python": live.count("data: ")},
            "content_type": {"ours_json": bodies[("ours", "fresh", sc)][0],
                             "python_json": bodies[("python", "async-fresh", sc)][0],
                             "ours_sse": bodies[("ours", "stream", sc)][0],
                             "python_sse": bodies[("python", "stream", sc)][0]},
        }
    if failures:
        log("\n\n".join(failures))
        sys.exit("PARITY FAILURE: our server's answers differ from the incumbent's (see above); not measuring.")
    log(f"   JSON bodies byte-identical (a: {report['a']['json_body_bytes']} B, b: {report['b']['json_body_bytes']} B);"
        f" SSE events identical after masking (a: {report['a']['sse_events_compared']}, b: {report['b']['sse_events_compared']})")
    return report


def phase_coldstart(exe: dict, runs: int) -> dict:
    """spawn -> first GET /ping 200, then VmRSS after 1 s idle; targets interleaved run by run."""
    log(f"== cold start: {runs} runs each")
    targets = (("ours", "binary", "fresh"), ("ours", "static", "fresh"), ("ours", "bench_server", "fresh"),
               ("python", "app.py", "async-fresh"))
    samples = {t[1]: {"start_ms": [], "idle_rss_kib": [], "idle_rss_anon_kib": [], "foreign": []} for t in targets}
    # warm the page cache (binaries, .pyc files) once
    for side, kind, mode in targets:
        with Server(side, mode, exe, kind=kind):
            pass
    for _ in range(runs):
        for side, kind, mode in targets:
            h.wait_for_quiet(window_s=0.5)
            s = Server(side, mode, exe, kind=kind)
            with h.ForeignCpu() as fc:
                ms = s.start()
            time.sleep(1.0)
            status = s.status()
            s.stop()
            samples[kind]["start_ms"].append(ms)
            samples[kind]["idle_rss_kib"].append(status["VmRSS"])
            samples[kind]["idle_rss_anon_kib"].append(status["RssAnon"])
            samples[kind]["foreign"].append(round(fc.frac, 4))
    for kind, d in samples.items():
        d["start"] = h.summarize(d["start_ms"])
        d["idle_rss"] = h.summarize(d["idle_rss_kib"])
        d["idle_rss_anon"] = h.summarize(d["idle_rss_anon_kib"])
        log(f"   {kind:13s} start median {d['start']['median']:8.2f} ms (min {d['start']['min']:.2f}, max"
            f" {d['start']['max']:.2f}); idle VmRSS {d['idle_rss']['median'] / 1024:.1f} MiB")
    return samples


def phase_memory(exe: dict, modes: tuple) -> dict:
    """bench_memory.py's sequence: idle 2 s, 1,000 x a, 1,000 x b, 5,000 x a + 5,000 x b (hey -c 8)."""
    bench_memory = baseline.import_script("bench_memory")
    log("== memory under load (hey -c 8): idle, +1,000 text, +1,000 tool, +10,000")
    pairs = {"fresh": (("ours", "fresh"), ("python", "async-fresh")),
             "stream": (("ours", "stream"), ("python", "stream"))}
    out = {}
    for m in modes:
        for side, mode in pairs[m]:
            with Server(side, mode, exe) as s:
                time.sleep(2.0)
                row = {"idle": s.status()}
                t0 = time.perf_counter()
                bench_memory.hey("a", 1000)
                row["after_1000_a"] = s.status()
                bench_memory.hey("b", 1000)
                row["after_1000_a_1000_b"] = s.status()
                bench_memory.hey("a", 5000)
                bench_memory.hey("b", 5000)
                row["after_12000"] = s.status()
                row["load_s"] = round(time.perf_counter() - t0, 2)
                row["cpu_s_total"] = s.cpu_seconds()
            out[f"{side}:{mode}"] = row
            log(f"   {side:6s} {mode:11s} VmRSS idle {row['idle']['VmRSS'] / 1024:.1f} MiB, after 1k"
                f" {row['after_1000_a']['VmRSS'] / 1024:.1f}, after 2k {row['after_1000_a_1000_b']['VmRSS'] / 1024:.1f},"
                f" after 12k {row['after_12000']['VmRSS'] / 1024:.1f} (HWM {row['after_12000']['VmHWM'] / 1024:.1f}),"
                f" threads {row['after_12000']['Threads']}, {row['load_s']} s")
    return out


def measure_cell(sc: str, c: int, duration: int, pid: int, retries: int) -> dict:
    path = "/ping" if sc == "p" else "/invocations"
    for attempt in range(1, retries + 2):
        h.wait_for_quiet(window_s=1.0)
        d = h.run_wrk(sc if sc != "p" else "a", c, duration, path=path, server_pid=pid)
        d["attempts"] = attempt
        if d["foreign_cpu_frac"] <= h.FOREIGN_MAX:
            break
        log(f"   neighbours used {d['foreign_cpu_frac']:.1%} of the machine during this run"
            + ("; retrying" if attempt <= retries else ""))
    return d


def phase_http(exe: dict, prof: dict) -> dict:
    log(f"== HTTP: wrk -t1, {prof['wrk_s']} s per cell, {prof['reps']} rep(s); server on core {h.SERVER_CPUS},"
        f" wrk on core {h.CLIENT_CPUS}")
    # (side, mode, scenarios, connections, extra env for our server, label)
    plan = [("ours", "fresh", "abp", CONNS, {}, "ours:fresh"),
            ("python", "async-fresh", "abp", CONNS, {}, "python:async-fresh"),
            ("ours", "stream", "ab", CONNS, {}, "ours:stream"),
            ("python", "stream", "ab", CONNS, {}, "python:stream"),
            ("python", "sync-fresh", "ab", CONNS, {}, "python:sync-fresh")]
    cells: dict = {}
    procs: dict = {}
    for rep in range(prof["reps"]):
        for side, mode, scenarios, conns, extra_env, label in plan:
            with Server(side, mode, exe, extra_env=extra_env) as s:
                h.run_wrk("a", 8, prof["warm_s"], server_pid=s.proc.pid)  # warm-up, like bench_http
                cpu0 = s.cpu_seconds()
                for sc in scenarios:
                    for c in ((1, 64) if sc == "p" else conns):
                        d = measure_cell(sc, c, prof["wrk_s"], s.proc.pid, prof["retries"])
                        d["rep"] = rep
                        cells.setdefault(label, {}).setdefault(f"{sc}/c{c}", []).append(d)
                        log(f"   {label:19s} {SCENARIO_NAMES[sc]:4s} c={c:<3d} rep{rep}: {d['rps']:9.1f} req/s"
                            f"  p50 {d['lat_p50_us'] / 1000:7.3f} ms  p99 {d['lat_p99_us'] / 1000:7.3f} ms"
                            f"  errors {d['errors_total']}  neighbours {d['foreign_cpu_frac']:.1%}")
                procs.setdefault(label, []).append(
                    {"status_after": s.status(), "server_cpu_s": round(s.cpu_seconds() - cpu0, 2)})
    summary = {}
    for server, by_cell in cells.items():
        summary[server] = {}
        for cell, runs in by_cell.items():
            summary[server][cell] = {k: h.summarize([r[k] for r in runs])
                                     for k in ("rps", "lat_p50_us", "lat_p99_us", "errors_total", "foreign_cpu_frac")}
            summary[server][cell]["bytes_per_response"] = runs[0]["bytes"] / max(1, runs[0]["requests"])
    return {"summary": summary, "runs": cells, "servers": procs}


def phase_sse(exe: dict, prof: dict) -> dict:
    """bench_stream.py's client: new connection per request, time to the first text-delta event."""
    bench_stream = baseline.import_script("bench_stream")
    log(f"== SSE first text delta: {prof['sse_n']} sequential requests per scenario (new connection each)")
    out = {}
    keys = ("ttfb_headers_ms", "ttfb_first_event_ms", "first_text_delta_ms", "total_ms")
    for side in ("ours", "python"):
        with Server(side, "stream", exe) as s:
            for _ in range(prof["sse_warm"]):
                bench_stream.one_request(h.BODIES["a"])
                bench_stream.one_request(h.BODIES["b"])
            for sc in "ab":
                h.wait_for_quiet()
                with h.ForeignCpu(s.proc.pid) as fc:
                    rows = [bench_stream.one_request(h.BODIES[sc]) for _ in range(prof["sse_n"])]
                rep = {"foreign_cpu_frac": round(fc.frac, 4), "n": len(rows)}
                for k in keys:
                    xs = [r[k] for r in rows]
                    rep[k] = {"p50": statistics.median(xs), "p99": bench_stream.pct(xs, 99), "min": min(xs)}
                rep["body_bytes"] = statistics.median(r["body_bytes"] for r in rows)
                rep["events"] = statistics.median(r["events"] for r in rows)
                out[f"{side}/{sc}"] = rep
                log(f"   {side:6s} {SCENARIO_NAMES[sc]}: first text delta p50 {rep['first_text_delta_ms']['p50']:.3f} ms"
                    f" (p99 {rep['first_text_delta_ms']['p99']:.3f}), total p50 {rep['total_ms']['p50']:.3f} ms,"
                    f" {rep['events']} events, {rep['body_bytes']} B")
    return out


DIVAN_ROW = re.compile(r"^(?P<tree>[│├╰─ ]*)(?P<name>[A-Za-z0-9_]+)\s+(?P<rest>.*)$")
UNITS = {"ps": 1e-6, "ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}


def parse_divan(text: str) -> dict:
    """{'group::bench': {'fastest_us', 'slowest_us', 'median_us', 'mean_us', 'samples', 'iters'}}."""
    out, stack = {}, []
    for line in text.splitlines():
        m = DIVAN_ROW.match(line)
        if not m or line.startswith("Timer precision"):
            continue
        depth = len(m.group("tree")) // 3
        cols = [c.strip() for c in m.group("rest").split("│")]
        stack = stack[:depth] + [m.group("name")]
        if depth == 0 or not cols or not cols[0]:
            continue
        values = []
        for col in cols[:4]:
            number, unit = col.split()
            values.append(float(number) * UNITS[unit])
        out["::".join(stack[1:])] = {
            "fastest_us": values[0], "slowest_us": values[1], "median_us": values[2], "mean_us": values[3],
            "samples": int(cols[4]), "iters": int(cols[5])}
    return out


def phase_micro(exe: dict, prof: dict) -> dict:
    log("== in-process micro-benchmarks (pinned to core 0, nice -20)")
    out: dict = {"rust": {}, "raw": {}}
    for name in ("agent_turn", "serialization"):
        h.wait_for_quiet()
        cmd = h.pinned([exe["benches"][name], "--bench", "--sample-count", str(prof["divan"])], h.SERVER_CPUS)
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        out["raw"][name] = p.stdout
        out["rust"][name] = parse_divan(p.stdout)
        log("\n".join("   " + line for line in p.stdout.splitlines()))
    h.wait_for_quiet()
    p = subprocess.run(h.pinned([exe["benches"]["bedrock_decode"], "--bench"], h.SERVER_CPUS), cwd=ROOT,
                       capture_output=True, text=True, check=True)
    out["raw"]["bedrock_decode"] = p.stdout
    nums = re.findall(r"([\d.]+) µs/event", p.stdout)
    if len(nums) >= 3:
        out["rust"]["bedrock_decode"] = {"sdk_us_per_event": float(nums[0]), "model_us_per_event": float(nums[1]),
                                         "conversion_us_per_event": float(nums[2])}
    log("\n".join("   " + line for line in p.stdout.splitlines()))

    reps, round_s = prof["inproc"]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [h.PY, str(HERE / "baseline.py"), tmp] + (["--no-quiet-wait"] if prof["quiet_wait"] == 0 else [])
        cmd += ["bench_inproc.py", str(reps), str(round_s)]
        log("   python bench_inproc.py", reps, round_s)
        p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PY_BASELINE=str(BASELINE)))
        if p.returncode != 0:
            sys.exit(f"bench_inproc.py failed:\n{p.stdout}\n{p.stderr}")
        out["python_inproc"] = json.loads((Path(tmp) / "inproc.json").read_text())
    log("   python py_extra.py", reps, round_s)
    p = subprocess.run([h.PY, str(HERE / "py_extra.py"), str(reps), str(round_s)], capture_output=True, text=True,
                       env=dict(os.environ, PY_BASELINE=str(BASELINE)))
    if p.returncode != 0:
        sys.exit(f"py_extra.py failed:\n{p.stdout}\n{p.stderr}")
    out["python_extra"] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])

    def out(cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {
        "cpu_model": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "mem_gib": round(mem_kib / 2**20, 1),
        "rustc": out(["rustc", "-V"]), "python": out([h.PY, "-V"]),
        "git_commit": out(["git", "rev-parse", "--short", "HEAD"]), "git_dirty": bool(out(["git", "status", "--porcelain"])),
        "rustc_processes_at_start": len(out(["pgrep", "-f", "rustc"]).split()),
        "compiler_processes_at_start": len(out(["pgrep", "-x", "(rustc|cc1|cc1plus|ld|ld.lld|clang|cc)"]).split()),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "pinning": {"server_cpus": h.SERVER_CPUS, "client_cpus": h.CLIENT_CPUS, "pin": h.PIN, "nice": h.NICE},
    }


def dir_size_mb(path: str) -> float | None:
    try:
        out = subprocess.run(["du", "-sb", path], capture_output=True, text=True, check=True).stdout
        return int(out.split()[0]) / 1e6
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- table

def fmt(v, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "req/s":
        return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
    if unit == "bytes":
        return f"{v:,.0f}"
    if unit in ("ms", "µs"):
        return f"{v:.3f}" if v < 1 else (f"{v:.2f}" if v < 100 else f"{v:,.0f}")
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def ratio(ours, python, better: str) -> str:
    if ours is None or python is None or ours == 0 or python == 0:
        return "—"
    r = python / ours if better == "lower" else ours / python
    return f"×{r:.1f}" if r < 100 else f"×{r:,.0f}"


def build_rows(res: dict) -> list[dict]:
    rows = []

    def add(section, metric, unit, ours, python, better="lower", noisy=False):
        rows.append({"section": section, "metric": f"{metric} ({unit})" if unit else metric, "unit": unit,
                     "ours": ours, "python": python, "better": better, "noisy": noisy})

    c = res.get("coldstart")
    if c:
        add("start-up", "release binary size (Python: its venv)", "MB", res["binary_size_mb"], res.get("python_venv_mb"))
        if res.get("static_size_mb"):
            add("start-up", "static musl binary size, as shipped (Python: its venv)", "MB", res["static_size_mb"],
                res.get("python_venv_mb"))
        py = c["app.py"]["start"]["median"]
        noisy = max(max(d["foreign"]) for d in c.values()) > h.FOREIGN_MAX
        add("start-up", "cold start, spawn → /ping 200, strands-runtime binary, median", "ms",
            c["binary"]["start"]["median"], py, noisy=noisy)
        if "static" in c:
            add("start-up", "cold start, spawn → /ping 200, static musl binary (as shipped), median", "ms",
                c["static"]["start"]["median"], py, noisy=noisy)
        add("start-up", "cold start, bench_server example, median", "ms", c["bench_server"]["start"]["median"], py,
            noisy=noisy)
        py_rss = c["app.py"]["idle_rss"]["median"] / 1024
        add("memory", "idle VmRSS 1 s after start, strands-runtime binary", "MiB",
            c["binary"]["idle_rss"]["median"] / 1024, py_rss)
        if "static" in c:
            add("memory", "idle VmRSS 1 s after start, static musl binary (as shipped)", "MiB",
                c["static"]["idle_rss"]["median"] / 1024, py_rss)
        add("memory", "idle VmRSS 1 s after start, bench_server", "MiB", c["bench_server"]["idle_rss"]["median"] / 1024,
            py_rss)
        add("memory", "idle RssAnon (VmRSS less mapped files), strands-runtime binary", "MiB",
            c["binary"]["idle_rss_anon"]["median"] / 1024, c["app.py"]["idle_rss_anon"]["median"] / 1024)
    m = res.get("memory")
    if m:
        for ours_key, py_key, label in (("ours:fresh", "python:async-fresh", "JSON"), ("ours:stream", "python:stream", "SSE")):
            if ours_key not in m:
                continue
            o, p = m[ours_key], m[py_key]
            for point, name in (("idle", "idle (2 s)"), ("after_1000_a", "after 1,000 text turns"),
                                ("after_1000_a_1000_b", "after +1,000 tool turns"), ("after_12000", "after 12,000 turns")):
                add("memory", f"VmRSS under load, {label}, {name}", "MiB", o[point]["VmRSS"] / 1024, p[point]["VmRSS"] / 1024)
            add("memory", f"VmRSS growth 2,000 → 12,000 turns, {label}", "MiB",
                (o["after_12000"]["VmRSS"] - o["after_1000_a_1000_b"]["VmRSS"]) / 1024,
                (p["after_12000"]["VmRSS"] - p["after_1000_a_1000_b"]["VmRSS"]) / 1024, better="none")
            add("memory", f"VmHWM after 12,000 turns, {label}", "MiB", o["after_12000"]["VmHWM"] / 1024,
                p["after_12000"]["VmHWM"] / 1024)
    http = res.get("http")
    if http:
        s = http["summary"]

        def cell(server, key):
            return s.get(server, {}).get(key)

        for label, ours_srv, py_srv in (("JSON", "ours:fresh", "python:async-fresh"), ("SSE", "ours:stream", "python:stream")):
            for sc in "ab":
                for c_ in CONNS:
                    o, p = cell(ours_srv, f"{sc}/c{c_}"), cell(py_srv, f"{sc}/c{c_}")
                    if not o or not p:
                        continue
                    noisy = max(o["foreign_cpu_frac"]["max"], p["foreign_cpu_frac"]["max"]) > h.FOREIGN_MAX
                    base = f"/invocations {label} {SCENARIO_NAMES[sc]} turn, c={c_}"
                    add("http", f"{base}, throughput", "req/s", o["rps"]["median"], p["rps"]["median"], "higher", noisy)
                    add("http", f"{base}, p50", "ms", o["lat_p50_us"]["median"] / 1000, p["lat_p50_us"]["median"] / 1000,
                        noisy=noisy)
                    add("http", f"{base}, p99", "ms", o["lat_p99_us"]["median"] / 1000, p["lat_p99_us"]["median"] / 1000,
                        noisy=noisy)
        for sc in "ab":
            for c_ in CONNS:
                o, p = cell("ours:fresh", f"{sc}/c{c_}"), cell("python:sync-fresh", f"{sc}/c{c_}")
                if o and p:
                    add("http", f"/invocations JSON {SCENARIO_NAMES[sc]} turn, c={c_}, throughput vs Python sync-fresh",
                        "req/s", o["rps"]["median"], p["rps"]["median"], "higher")
        for c_ in (1, 64):
            o, p = cell("ours:fresh", f"p/c{c_}"), cell("python:async-fresh", f"p/c{c_}")
            if o and p:
                add("http", f"GET /ping, c={c_}, throughput", "req/s", o["rps"]["median"], p["rps"]["median"], "higher")
                add("http", f"GET /ping, c={c_}, p99", "ms", o["lat_p99_us"]["median"] / 1000, p["lat_p99_us"]["median"] / 1000)
    sse = res.get("sse")
    if sse:
        for sc in "ab":
            o, p = sse[f"ours/{sc}"], sse[f"python/{sc}"]
            name = SCENARIO_NAMES[sc]
            noisy = max(o["foreign_cpu_frac"], p["foreign_cpu_frac"]) > h.FOREIGN_MAX
            add("sse", f"SSE {name} turn, first text delta (new connection), median", "ms",
                o["first_text_delta_ms"]["p50"], p["first_text_delta_ms"]["p50"], noisy=noisy)
            add("sse", f"SSE {name} turn, first text delta (new connection), p99", "ms",
                o["first_text_delta_ms"]["p99"], p["first_text_delta_ms"]["p99"], noisy=noisy)
            add("sse", f"SSE {name} turn, whole response, median", "ms", o["total_ms"]["p50"], p["total_ms"]["p50"],
                noisy=noisy)
            add("sse", f"SSE {name} turn, body (Python sends str(event) for 12–22 events)", "bytes", o["body_bytes"], p["body_bytes"],
                better="none")
    micro = res.get("micro")
    if micro:
        turn = micro["rust"].get("agent_turn", {})
        ser = micro["rust"].get("serialization", {})
        py = micro["python_inproc"]["cases"]
        px = micro["python_extra"]

        def r(group, key):
            return (group.get(key) or {}).get("median_us")

        def p_(key, src=py):
            return (src.get(key) or {}).get("median")

        add("in-process", "build the agent (model + add tool) [Python: construct_agent]", "µs", r(turn, "turn::build_agent"), p_("construct_agent"))
        add("in-process", "text turn, fresh agent [Python: async_fresh_a]", "µs", r(turn, "turn::text"), p_("async_fresh_a"))
        add("in-process", "one-tool turn, fresh agent [Python: async_fresh_b]", "µs", r(turn, "turn::one_tool"), p_("async_fresh_b"))
        add("in-process", "10 concurrent tools, fresh agent [Python: py_extra ten_tools]", "µs", r(turn, "turn::ten_tools"),
            p_("async_fresh_ten_tools", px))
        add("in-process", "text turn, every event streamed [Python: stream_fresh_a]", "µs", r(turn, "turn::text_stream"),
            p_("stream_fresh_a"))
        add("in-process", "one-tool turn, every event streamed [Python: stream_fresh_b]", "µs", r(turn, "turn::one_tool_stream"),
            p_("stream_fresh_b"))
        add("serialization", "SSE text-delta event → JSON via serde_json::Value (former server path) [Python: _convert_to_sse]", "µs",
            r(turn, "events::text_delta_via_value"), p_("sse_text_delta", px))
        add("serialization", "SSE text-delta event → JSON directly (server path) [Python: _convert_to_sse]", "µs",
            r(turn, "events::text_delta_json"), p_("sse_text_delta", px))
        add("serialization", "SSE one-tool turn, all events via serde_json::Value (former server path) [Python: _convert_to_sse]", "µs",
            r(turn, "events::tool_turn_via_value"), p_("sse_tool_turn", px))
        add("serialization", "SSE one-tool turn, all events directly (server path) [Python: _convert_to_sse]", "µs",
            r(turn, "events::tool_turn_json"), p_("sse_tool_turn", px))
        add("serialization", "to_python_string(tool-turn history) [Python: json.dumps]", "µs",
            r(ser, "python_json::tool_turn_history"), p_("json_tool_turn_history", px))
        add("serialization", "to_python_string({\"result\": text}) [Python: json.dumps]", "µs",
            r(ser, "python_json::result_body"), p_("json_result_body", px))
        add("serialization", "to_python_string(text-delta stream event) [Python: json.dumps]", "µs",
            r(ser, "python_json::text_delta_event"), p_("json_text_delta_event", px))
        add("serialization", "parse the tool-turn history [Python: json.loads]", "µs",
            r(ser, "parse::tool_turn_history"), p_("json_parse_history", px))
        bd = micro["rust"].get("bedrock_decode")
        if bd:
            add("serialization", "Bedrock stream decode, BedrockModel::stream per event", "µs", bd["model_us_per_event"], None)
            add("serialization", "Bedrock stream decode, conversion overhead per event", "µs", bd["conversion_us_per_event"], None)
    return rows


def targets(res: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met?) for the goals of issue 9."""
    out = []

    def check(name, value, ok, shown):
        out.append((name, shown if value is not None else "not measured", ok if value is not None else None))

    c = res.get("coldstart", {})
    v = c.get("binary", {}).get("start", {}).get("median")
    check("cold start ≤ 10 ms (strands-runtime, median)", v, v is not None and v <= 10, f"{v:.2f} ms" if v else "")
    m = res.get("memory", {}).get("ours:fresh")
    shipped = "static" if "static" in c else "binary"
    idle = c.get(shipped, {}).get("idle_rss", {}).get("median")
    glibc = c.get("binary", {}).get("idle_rss", {}).get("median")
    if m and idle is not None:
        mb = lambda kib: kib * 1024 / 1e6  # noqa: E731 (MB, as the target says; VmRSS is in KiB)
        after = mb(m["after_12000"]["VmRSS"])
        growth = mb(m["after_12000"]["VmRSS"] - m["after_1000_a_1000_b"]["VmRSS"])
        ok = mb(idle) <= 10 and after <= 10 and growth <= 0.5
        check("idle RSS ≤ 10 MB, flat after 12k invocations", after, ok,
              f"idle {mb(idle):.1f} MB ({'static binary as shipped' if shipped == 'static' else 'binary'}"
              + (f"; glibc build {mb(glibc):.1f} MB" if shipped == "static" and glibc else "") + ");"
              f" bench_server {mb(m['idle']['VmRSS']):.1f} → {after:.1f} MB after 12k (growth 2k→12k {growth:+.2f} MB)")
    else:
        check("idle RSS ≤ 10 MB, flat after 12k invocations", None, None, "")
    turn = res.get("micro", {}).get("rust", {}).get("agent_turn", {})
    v = (turn.get("turn::text") or {}).get("median_us")
    check("in-process text turn ≤ 10 µs", v, v is not None and v <= 10, f"{v:.2f} µs" if v else "")
    v = (turn.get("turn::one_tool") or {}).get("median_us")
    check("in-process one-tool turn ≤ 25 µs", v, v is not None and v <= 25, f"{v:.2f} µs" if v else "")
    s = res.get("http", {}).get("summary", {})
    o, p = s.get("ours:fresh", {}).get("a/c8"), s.get("python:async-fresh", {}).get("a/c8")
    if o and p:
        r = o["rps"]["median"] / p["rps"]["median"]
        check("/invocations text turn c=8 ≥ 40× Python req/s", r, r >= 40,
              f"×{r:.1f} ({o['rps']['median']:,.0f} vs {p['rps']['median']:,.0f} req/s, Python async-fresh)")
    else:
        check("/invocations text turn c=8 ≥ 40× Python req/s", None, None, "")
    o = s.get("ours:fresh", {}).get("a/c64")
    v = o["lat_p99_us"]["median"] / 1000 if o else None
    check("/invocations text turn p99 at c=64 ≤ 5 ms", v, v is not None and v <= 5, f"{v:.2f} ms" if v else "")
    v = res.get("sse", {}).get("ours/a", {}).get("first_text_delta_ms", {}).get("p50")
    check("SSE first text delta ≤ 0.2 ms (median, text turn)", v, v is not None and v <= 0.2, f"{v:.3f} ms" if v else "")
    v = res.get("binary_size_mb")
    check("release binary ≤ 15 MB", v, v is not None and v <= 15, f"{v:.1f} MB" if v else "")
    return out


def render(res: dict) -> str:
    rows = build_rows(res)
    mc = res["machine"]
    lines = [
        f"Run `{res['profile']}` ({res['config']['wrk_s']} s per wrk cell × {res['config']['reps']}) at {res['finished_at']},"
        f" commit {mc['git_commit']}{' (dirty)' if mc['git_dirty'] else ''}: {mc['cpu_model']}, {mc['cores']} cores,"
        f" kernel {mc['kernel']}, speed index {res.get('speed_index_ms', {}).get('start')}/"
        f"{res.get('speed_index_ms', {}).get('end')} ms (baseline quiet box: 130–135 ms);"
        f" neighbours used {mc.get('neighbour_cpu_at_start', 0):.0%} of the machine at start"
        f" ({mc['compiler_processes_at_start']} compiler processes).",
        "",
        "| metric | ours | python | ratio |",
        "|---|---|---|---|",
    ]
    for row in rows:
        mark = " *" if row["noisy"] else ""
        rat = "—" if row["better"] == "none" else ratio(row["ours"], row["python"], row["better"])
        lines.append(f"| {row['metric']} | {fmt(row['ours'], row['unit'])}{mark} | {fmt(row['python'], row['unit'])}{mark}"
                     f" | {rat} |")
    lines += [
        "",
        "Ratio: how many times better ours is (Python ÷ ours for times, sizes and memory; ours ÷ Python for"
        " throughput). Python is `app.py` in `async-fresh` mode for JSON (its fastest JSON mode), `stream` for SSE;"
        " in-process and serialization rows name the Python case in brackets (`bench_inproc.py`, `bench/py_extra.py`). * = neighbours"
        f" used more than {h.FOREIGN_MAX:.0%} of the machine during that cell.",
        "",
        "| target (issue 9) | measured | met |",
        "|---|---|---|",
    ]
    for name, shown, ok in targets(res):
        lines.append(f"| {name} | {shown} | {'yes' if ok else ('—' if ok is None else '**no**')} |")
    return "\n".join(lines) + "\n"


def update_docs(table_md: str) -> None:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOC} has no {BEGIN} … {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table_md}{END}{tail}")
    log(f"updated {DOC.relative_to(ROOT)}")


# ----------------------------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=PROFILES, default="default")
    ap.add_argument("--only", default="parity,coldstart,memory,http,sse,micro",
                    help="comma-separated phases (parity always runs unless --no-parity)")
    ap.add_argument("--no-parity", action="store_true")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--update-docs", action="store_true")
    ap.add_argument("--update-docs-only", action="store_true", help="rewrite docs/performance.md from results/latest.md")
    args = ap.parse_args()
    if args.update_docs_only:
        update_docs((RESULTS / "latest.md").read_text())
        return

    prof = dict(PROFILES[args.profile])
    if "BENCH_QUIET_MAX_WAIT" not in os.environ:
        h.QUIET_MAX_WAIT = prof["quiet_wait"]
    if prof["quiet_wait"] == 0:
        baseline.no_quiet_wait()
    phases = set(args.only.split(","))
    started = time.time()
    h.prioritize_self(h.CLIENT_CPUS)  # nice -20 and keep this driver (the pinger, the SSE client) off core 0
    res: dict = {"profile": args.profile, "config": prof, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "machine": machine(), "baseline_dir": str(BASELINE)}
    with h.ForeignCpu() as fc:
        time.sleep(1.0)
    res["machine"]["neighbour_cpu_at_start"] = round(fc.frac, 3)
    if fc.frac > h.FOREIGN_MAX or res["machine"]["compiler_processes_at_start"]:
        log(f"WARNING: other processes use {fc.frac:.0%} of the machine ({res['machine']['compiler_processes_at_start']}"
            " compiler processes): numbers will be noisy")
    exe = build(args.skip_build)
    res["executables"] = exe
    res["binary_size_mb"] = os.path.getsize(exe["binary"]) / 1e6
    res["bench_server_size_mb"] = os.path.getsize(exe["bench_server"]) / 1e6
    res["static_size_mb"] = os.path.getsize(exe["static"]) / 1e6
    res["python_venv_mb"] = dir_size_mb(str(Path(h.PY).parent.parent))
    res["speed_index_ms"] = {"start": h.speed_index_ms()}
    if not args.no_parity:
        res["parity"] = phase_parity(exe)
    if "coldstart" in phases:
        res["coldstart"] = phase_coldstart(exe, prof["cold"])
    if "memory" in phases:
        res["memory"] = phase_memory(exe, prof["memory"])
    if "http" in phases:
        res["http"] = phase_http(exe, prof)
    if "sse" in phases:
        res["sse"] = phase_sse(exe, prof)
    if "micro" in phases:
        res["micro"] = phase_micro(exe, prof)
    res["speed_index_ms"]["end"] = h.speed_index_ms()
    res["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    res["elapsed_s"] = round(time.time() - started, 1)
    res["rows"] = build_rows(res)
    res["targets"] = [{"target": n, "measured": s, "met": ok} for n, s, ok in targets(res)]

    table = render(res)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str))
    (RESULTS / "latest.md").write_text(table)
    print(table)
    log(f"wrote {(RESULTS / 'latest.json').relative_to(ROOT)} and latest.md in {res['elapsed_s']} s")
    if args.update_docs:
        update_docs(table)


if __name__ == "__main__":
    main()
