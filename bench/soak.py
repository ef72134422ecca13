#!/usr/bin/env python3
"""The soak (issue 15): many mixed invocations against one server; RSS, open fds, threads and live
tokio tasks must stay flat.

Starts `bench_server` in `entrypoint` mode (the binary's own entrypoint: one agent per session)
and drives it with N invocations from C concurrent keep-alive clients: JSON and SSE, spread over
S session ids (more than the server keeps, so sessions are evicted and rebuilt), with one in 50
clients leaving mid-request. Samples the server every 5% of the run and prints a table and a
verdict: after a warm-up (the first 20%), the last sample may not exceed the warm-up one by more
than the slack (RSS 10 MiB, fds 16, tasks 16, threads 0).

  bench/soak.py --binary target/release/examples/bench_server [--invocations 100000]
"""
import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(pid: int, stderr_path: str) -> dict:
    status = open(f"/proc/{pid}/status").read()
    rss_kib = int(next(l for l in status.splitlines() if l.startswith("VmRSS:")).split()[1])
    threads = int(next(l for l in status.splitlines() if l.startswith("Threads:")).split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    tasks = None
    with open(stderr_path, "rb") as f:
        f.seek(max(0, os.path.getsize(stderr_path) - 4096))
        for line in f.read().decode(errors="replace").splitlines():
            if line.startswith("bench_server stats: alive_tasks="):
                tasks = int(line.rsplit("=", 1)[1])
    return {"rss_kib": rss_kib, "fds": fds, "threads": threads, "tasks": tasks}


def request(session: str, stream: bool) -> bytes:
    body = json.dumps({"prompt": "What is 2 + 3?", "stream": stream}).encode()
    return (
        b"POST /invocations HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        + f"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: {session}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        length = int(headers.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        await reader.readexactly(length)
    return status


async def client(port: int, counter: dict, total: int, sessions: int, rng: random.Random):
    reader = writer = None
    while counter["sent"] < total:
        counter["sent"] += 1
        session = f"soak-session-{rng.randrange(sessions):06d}-{'x' * 24}"
        stream = rng.random() < 0.5
        leave = rng.random() < 0.02
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request(session, stream))
        await writer.drain()
        if leave:
            # Gone mid-request: the server must cancel the turn and free everything.
            writer.close()
            reader = writer = None
            counter["left"] += 1
            continue
        try:
            status = await read_response(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            reader = writer = None
            counter["errors"] += 1
            continue
        counter["by_status"][status] = counter["by_status"].get(status, 0) + 1
    if writer is not None:
        writer.close()


async def drive(port, total, concurrency, sessions, pid, stderr_path, samples):
    counter = {"sent": 0, "left": 0, "errors": 0, "by_status": {}}
    rng = random.Random(15)
    every = max(1, total // 20)

    async def sampler():
        next_at = 0
        while counter["sent"] < total:
            if counter["sent"] >= next_at:
                samples.append((counter["sent"], sample(pid, stderr_path)))
                next_at += every
            await asyncio.sleep(0.05)

    started = time.monotonic()
    await asyncio.gather(
        sampler(), *(client(port, counter, total, sessions, rng) for _ in range(concurrency))
    )
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.5)  # let the last turns end and the task count settle
    samples.append((counter["sent"], sample(pid, stderr_path)))
    return counter, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sessions", type=int, default=1500)
    parser.add_argument("--max-sessions", type=int, default=1000)
    parser.add_argument("--json", help="write the samples and verdict here")
    args = parser.parse_args()

    port = free_port()
    stderr_path = f"/tmp/soak-{port}.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "BENCH_MODE": "entrypoint",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "BENCH_STATS_MS": "500",
        "MAX_SESSIONS": str(args.max_sessions),
    }
    with open(stderr_path, "wb") as stderr:
        server = subprocess.Popen([args.binary], env=env, stderr=stderr, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("soak: the server did not start")
                time.sleep(0.05)
        samples = []
        counter, elapsed = asyncio.run(
            drive(port, args.invocations, args.concurrency, args.sessions, server.pid, stderr_path, samples)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"soak: {args.invocations} invocations in {elapsed:.1f} s "
          f"({args.invocations / elapsed:.0f}/s), {counter['left']} clients left mid-request, "
          f"{counter['errors']} broken connections, statuses {counter['by_status']}")
    print("| invocations | RSS (MiB) | fds | threads | live tasks |")
    print("|---:|---:|---:|---:|---:|")
    for sent, s in samples:
        print(f"| {sent} | {s['rss_kib'] / 1024:.1f} | {s['fds']} | {s['threads']} | {s['tasks']} |")
    warm = next(s for sent, s in samples if sent >= args.invocations // 5)
    last = samples[-1][1]
    growth = {
        "rss_mib": (last["rss_kib"] - warm["rss_kib"]) / 1024,
        "fds": last["fds"] - warm["fds"],
        "threads": last["threads"] - warm["threads"],
        "tasks": (last["tasks"] or 0) - (warm["tasks"] or 0),
    }
    flat = growth["rss_mib"] <= 10 and growth["fds"] <= 16 and growth["threads"] <= 0 and growth["tasks"] <= 16
    bad = {k: v for k, v in counter["by_status"].items() if k >= 500}
    ok = flat and not bad and counter["errors"] == 0
    print(f"soak: growth after warm-up {growth}; {'FLAT' if flat else 'GROWING'}; "
          f"{'no 5xx' if not bad else f'5xx: {bad}'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "elapsed_s": elapsed, "counter": counter,
                       "samples": samples, "growth": growth, "ok": ok}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
