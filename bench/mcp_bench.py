"""MCP benchmarks, ours against Python Strands 1.62 in the same run (scripts/bench-mcp):

- tool-call latency through the client (strands-mcp's McpClient, Python's MCPClient) to the same
  server, over stdio (the Python SDK's server, tests/mcp/fixture_server.py, tool `add`) and over
  streamable HTTP (examples/mcp-server, a Rust server, tool `test_simple_text`, so the client's
  cost dominates);
- cold start with three MCP servers configured: spawn to the first 200 on /ping, for the
  strands-runtime binary with an agent file and for a BedrockAgentCoreApp starting three
  MCPClients at import.

Writes bench/results/mcp.json and mcp.md.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE = str(ROOT / "tests/mcp/fixture_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping_ok(port: int) -> bool:
    """One `GET /ping` on a raw socket (as bench/run.py's cold start: no HTTP library's cost)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    sys.exit(f"nothing listens on port {port}")


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "mean": statistics.fmean(ordered), "n": len(ordered)}


def run_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def calls(args, kind: str, server: list[str], tool: str, arguments: str) -> dict:
    ours = run_json([args.call_bench, tool, arguments, str(args.calls), kind, *server])
    python = run_json([args.python, str(HERE / "mcp_client_bench.py"), tool, arguments, str(args.calls), kind, *server])
    # The first calls warm both sides (imports, pools); the rest are timed.
    warm = min(10, args.calls // 10)
    return {side: {"connect_ms": r["connect_ms"], "call": summary(r["call_ms"][warm:])}
            for side, r in (("ours", ours), ("python", python))}


def connects(args, kind: str, server: list[str], tool: str, arguments: str) -> dict:
    """Connecting and listing the tools, timed over several fresh clients (sides alternate)."""
    ours, python = [], []
    for _ in range(args.connects):
        ours.append(run_json([args.call_bench, tool, arguments, "1", kind, *server])["connect_ms"])
        python.append(run_json([args.python, str(HERE / "mcp_client_bench.py"), tool, arguments, "1", kind,
                                *server])["connect_ms"])
    return {"ours": summary(ours), "python": summary(python)}


def cold_start(cmd: list[str], port: int, env: dict | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        while not ping_ok(port):
            if proc.poll() is not None:
                sys.exit(f"exited before /ping: {cmd}")
            time.sleep(0.0005)
        return (time.perf_counter() - started) * 1e3
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--server", required=True, help="examples/mcp-server's binary")
    ap.add_argument("--call-bench", required=True)
    ap.add_argument("--python", required=True, help="a Python with strands-agents 1.62 and bedrock-agentcore 1.25")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--cold", type=int, default=5)
    ap.add_argument("--connects", type=int, default=5)
    args = ap.parse_args()

    res: dict = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    res["stdio"] = calls(args, "stdio", [args.python, FIXTURE], "add", '{"a": 1, "b": 2}')
    res["stdio_connect_ms"] = connects(args, "stdio", [args.python, FIXTURE], "add", '{"a": 1, "b": 2}')
    port = free_port()
    server = subprocess.Popen([args.server], env={"PORT": str(port), "HOST": "127.0.0.1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}/mcp"
        res["http"] = calls(args, "http", [url], "test_simple_text", "{}")
        res["http_connect_ms"] = connects(args, "http", [url], "test_simple_text", "{}")

        work = Path(tempfile.mkdtemp(prefix="bench-mcp-"))
        # Python children of one run may still be exiting when the next starts: the layout with
        # child processes goes last, and every run waits for the machine to settle (below).
        layouts = {
            "no_servers": {},
            # Remote servers only (AgentCore Gateway and the like): no child process starts.
            "3_http_servers": {name: {"url": url} for name in ("one", "two", "web")},
            # Two Python SDK servers over stdio and one over HTTP, as the Python app below.
            "3_servers": {"one": {"command": args.python, "args": [FIXTURE]},
                          "two": {"command": args.python, "args": [FIXTURE]},
                          "web": {"url": url}},
        }
        agents = {}
        for name, servers in layouts.items():
            agents[name] = work / f"{name}.json"
            agents[name].write_text(json.dumps({"model": "us.amazon.nova-lite-v1:0", "mcpServers": servers}))
        ours = {name: [] for name in layouts}
        python = []
        for _ in range(args.cold):
            for name, agent in agents.items():
                p = free_port()
                env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "PORT": str(p), "HOST": "127.0.0.1",
                       "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
                ours[name].append(cold_start([args.runtime, "serve", "--agent", str(agent)], p, env))
            p = free_port()
            python.append(cold_start([args.python, str(HERE / "mcp_app.py"), args.python, FIXTURE, url, str(p)], p))
        res["cold_start_3_servers_ms"] = {"ours": summary(ours["3_servers"]), "python": summary(python)}
        res["cold_start_ours_ms"] = {name: summary(samples) for name, samples in ours.items()}
    finally:
        server.terminate()
        server.wait()

    rows = [
        ("stdio tool call (Python SDK server), median", res["stdio"], "call", "median"),
        ("stdio tool call, p99", res["stdio"], "call", "p99"),
        ("HTTP tool call (Rust server), median", res["http"], "call", "median"),
        ("HTTP tool call, p99", res["http"], "call", "p99"),
    ]
    lines = ["| Metric | Ours | Python | Ratio |", "|---|---|---|---|"]
    for name, data, key, stat in rows:
        o, p = data["ours"][key][stat], data["python"][key][stat]
        lines.append(f"| {name} | {o:.3f} ms | {p:.3f} ms | {p / o:.1f}x |")
    for kind in ("stdio", "http"):
        c = res[f"{kind}_connect_ms"]
        o, p = c["ours"]["median"], c["python"]["median"]
        lines.append(f"| {kind} connect and list tools, median of {args.connects} | {o:.1f} ms | {p:.1f} ms | {p / o:.1f}x |")
    c = res["cold_start_3_servers_ms"]
    lines.append(f"| first /ping with 3 MCP servers configured (2 Python stdio, 1 HTTP), median | "
                 f"{c['ours']['median']:.1f} ms | {c['python']['median']:.1f} ms | "
                 f"{c['python']['median'] / c['ours']['median']:.1f}x |")
    o = res["cold_start_ours_ms"]
    lines.append(f"| first /ping with 3 HTTP MCP servers configured, median | {o['3_http_servers']['median']:.1f} ms | | |")
    lines.append(f"| first /ping with no MCP server, median | {o['no_servers']['median']:.1f} ms | | |")
    table = "\n".join(lines) + "\n"
    out = HERE / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "mcp.json").write_text(json.dumps(res, indent=1))
    (out / "mcp.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
