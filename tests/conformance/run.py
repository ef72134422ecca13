"""Differential conformance: the official Python BedrockAgentCoreApp (bedrock-agentcore 1.25.0) and
strands-runtime serve the same fixture app; every case is sent to both and the status, content type,
relevant headers and body bytes must be equal (generated ids and timestamps are masked).

Usage: python run.py PYTHON_APP_CMD... -- RUST_APP_BINARY
Run by scripts/conformance, which prepares the venv and builds the Rust app.
"""

import asyncio
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

import websockets

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIMESTAMP = re.compile(rb'"time_of_last_update":\d+')
COMPARED_HEADERS = ["content-type", "allow", "location", "x-a", "transfer-encoding"]

CTX_HEADERS = {
    "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "sess-1234",
    "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id": "req-1",
    "WorkloadAccessToken": "wat-abc",
    "OAuth2CallbackUrl": "https://cb",
    "Authorization": "Bearer xyz",
    "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Foo": "bar",
    "X-Amzn-Bedrock-AgentCore-Runtime-Custom": "dropped",
    "X-Amzn-Trace-Id": "Root=1-abc",
    "X-Amz-Date": "20261124T000000Z",
    "X-Other": "o",
    "baggage": "a=b",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "Cookie": "c=1",
    "User-Agent": "conformance",
}

BIG = json.dumps({"mode": "echo", "blob": "x" * (10 * 1024 * 1024)}).encode()


def post(body, headers=None, path="/invocations"):
    return ("POST", path, headers or {}, body)


CASES = [
    ("ping", ("GET", "/ping", {}, None)),
    ("ping again (same timestamp rules)", ("GET", "/ping", {}, None)),
    ("HEAD /ping", ("HEAD", "/ping", {}, None)),
    ("POST /ping is 405", ("POST", "/ping", {}, b"")),
    ("GET /invocations is 405", ("GET", "/invocations", {}, None)),
    ("unknown path is 404", ("GET", "/nope", {}, None)),
    ("trailing slash redirects", post(b"{}", path="/invocations/")),
    ("echo with unicode", post('{"mode":"echo","x":"ü"}'.encode())),
    ("content type is ignored", post(b'{"a": 1}', {"Content-Type": "text/plain"})),
    ("form content type is ignored", post(b'{"a": 1}', {"Content-Type": "application/x-www-form-urlencoded"})),
    ("empty body", post(b"")),
    ("not JSON", post(b"hello", {"Content-Type": "text/plain"})),
    ("open brace", post(b"{")),
    ("invalid UTF-8", post(b"\x80\x81")),
    ("list payload", post(b"[1, 2]")),
    ("string payload", post(b'"abc"')),
    ("null payload", post(b"null")),
    ("number payload", post(b"42")),
    ("UTF-8 BOM", post(b'\xef\xbb\xbf{"a": 1}')),
    ("query string ignored", post(b'{"b": 2}', path="/invocations?qualifier=DEFAULT")),
    ("string result", post(b'{"mode": "string"}')),
    ("null result", post(b'{"mode": "null"}')),
    ("number result", post(b'{"mode": "number"}')),
    ("bool result", post(b'{"mode": "bool"}')),
    ("nested result", post(b'{"mode": "nested"}')),
    ("handler error", post(b'{"mode": "raise"}')),
    ("HTTP 418 from handler", post(b'{"mode": "teapot"}')),
    ("HTTP 422 from handler", post(b'{"mode": "unprocessable"}')),
    ("custom response passes through", post(b'{"mode": "response"}')),
    ("stream with mid-stream error", post(b'{"mode": "stream"}')),
    ("stream without error", post(b'{"mode": "stream_ok"}')),
    ("stream failing before the first item", post(b'{"mode": "stream_fail_first"}')),
    ("context from headers", post(b'{"mode": "ctx"}', CTX_HEADERS)),
    ("context without headers", post(b'{"mode": "ctx"}')),
    ("empty request id gets a fresh one", post(b'{"mode": "ctx"}', {"X-Amzn-Bedrock-AgentCore-Runtime-Request-Id": ""})),
    ("new WAT header wins", post(b'{"mode": "ctx"}', {"WorkloadAccessToken": "old", "X-Amz-Bedrock-AgentCore-Identity-WAT": "new"})),
    ("10 MB payload", post(BIG)),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, process, name):
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode} before answering /ping")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{name} did not answer /ping within 60 s")


def send(port, case):
    method, path, headers, body = case
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if body:
        conn.send(body)
    response = conn.getresponse()
    payload = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    if "allow" in headers:
        # Starlette builds `allow` from a set: its order changes with Python's hash seed.
        headers["allow"] = ", ".join(sorted(m.strip() for m in headers["allow"].split(",")))
    if "location" in headers:
        headers["location"] = re.sub(r":\d+/", ":<port>/", headers["location"])
    if "transfer-encoding" in headers:
        headers["transfer-encoding"] = headers["transfer-encoding"].lower()
    payload = TIMESTAMP.sub(b'"time_of_last_update":<ts>', payload)
    payload = UUID.sub(b"<uuid>", payload)
    return response.status, {h: headers.get(h) for h in COMPARED_HEADERS}, payload


async def websocket_cases(port):
    uri = f"ws://127.0.0.1:{port}/ws"
    headers = {
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "ws-sess",
        "Authorization": "Bearer t",
        "X-Amzn-Bedrock-AgentCore-Runtime-Custom-A": "1",
    }
    out = []
    async with websockets.connect(uri, additional_headers=headers) as ws:
        for i in range(3):
            await ws.send(json.dumps({"message": "Hello", "i": i}))
            out.append(json.loads(await ws.recv()))
    async with websockets.connect(uri) as ws:
        await ws.send(json.dumps({"fail": True}))
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            out.append({"close_code": closed.rcvd.code if closed.rcvd else None})
    return out


def main():
    split = sys.argv.index("--")
    python_cmd, rust_cmd = sys.argv[1:split], sys.argv[split + 1 :]
    ports = {"python": free_port(), "rust": free_port()}
    env = dict(os.environ)
    processes = {
        "python": subprocess.Popen(python_cmd + [str(ports["python"])], stderr=subprocess.DEVNULL),
        "rust": subprocess.Popen(rust_cmd, env={**env, "PORT": str(ports["rust"])}, stderr=subprocess.DEVNULL),
    }
    failures = 0
    try:
        for name, process in processes.items():
            wait_ready(ports[name], process, name)
        for title, case in CASES:
            py = send(ports["python"], case)
            rs = send(ports["rust"], case)
            if py == rs:
                print(f"  ok    {title}")
            else:
                failures += 1
                print(f"  DIFF  {title}\n        python: {py[0]} {py[1]} {py[2][:300]!r}\n        rust:   {rs[0]} {rs[1]} {rs[2][:300]!r}")
        py_ws = asyncio.run(websocket_cases(ports["python"]))
        rs_ws = asyncio.run(websocket_cases(ports["rust"]))
        if py_ws == rs_ws:
            print("  ok    websocket echo x3 with context, failure closes with 1011")
        else:
            failures += 1
            print(f"  DIFF  websocket\n        python: {py_ws}\n        rust:   {rs_ws}")
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=10)
    total = len(CASES) + 1
    print(f"conformance: {total - failures}/{total} cases identical")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
