"""Are our server's answers the incumbent's? JSON bodies must be byte-identical; SSE bodies must carry
the same events once what cannot match is masked.

What is masked in SSE bodies (each is a documented difference, see docs/python-parity.md):

* `tracking_id` (random uuid per message) is removed everywhere.
* Python 1.62 cannot JSON-serialize the events that carry its invocation state (the agent object,
  spans, UUIDs), so AgentCore sends them as the *string* `str(event)`. From those strings the
  JSON-able part is recovered: everything before `'agent': <...>` for deltas, and `stop_reason` plus
  `message` from `AgentResult(...)` for the result. Rust sends plain JSON events.
* `current_tool_use` of `tool_use_stream` events is dropped: Python renders it after the tool input
  has been parsed (the dict is shared and mutated before AgentCore serializes it), Rust sends the
  input text received so far.
* The result keeps `stop_reason` and `message`; Python's `metrics` (lifetime EventLoopMetrics with
  timings and object reprs) and Rust's per-invocation `usage`/`cycle_count` are not compared.
* Python's deprecated duplicate `{"start": true}` events and Rust's additional `tool_start` /
  `tool_result` events are dropped.

Usage as a script: python parity.py OURS.sse PYTHON.sse   (exit 1 and a diff when they differ)
"""

from __future__ import annotations

import ast
import difflib
import json
import sys


def sse_events(body: str) -> list:
    """The JSON value of every `data: ` line."""
    events = []
    for line in body.split("\n"):
        if line.startswith("data: "):
            events.append(json.loads(line[len("data: "):]))
    return events


def _strip_tracking_ids(value):
    if isinstance(value, dict):
        return {k: _strip_tracking_ids(v) for k, v in value.items() if k != "tracking_id"}
    if isinstance(value, list):
        return [_strip_tracking_ids(v) for v in value]
    return value


def _from_python_repr(text: str):
    """Recover the JSON-able part of `str(event)` for an event Python could not serialize."""
    if text.startswith("{'result': AgentResult("):
        stop = text.split("stop_reason=", 1)[1].split(",", 1)[0]
        message = text.split(", message=", 1)[1].split(", metrics=EventLoopMetrics(", 1)[0]
        return {"result": {"stop_reason": ast.literal_eval(stop), "message": ast.literal_eval(message)}}
    if ", 'agent': <" in text:
        return ast.literal_eval(text.split(", 'agent': <", 1)[0] + "}")
    raise ValueError(f"unrecognised non-JSON event: {text[:120]}")


def normalize_event(event):
    """One event in the comparable form, or None when it is a documented difference."""
    if isinstance(event, str) and event.startswith("{"):
        event = _from_python_repr(event)
    if not isinstance(event, dict):
        return event
    if event == {"start": True}:
        return None
    if event.get("type") in ("tool_start", "tool_result"):
        return None
    event = _strip_tracking_ids(event)
    if event.get("type") == "tool_use_stream":
        event = {k: v for k, v in event.items() if k != "current_tool_use"}
    if "result" in event and isinstance(event["result"], dict):
        result = event["result"]
        event = {"result": {"stop_reason": result.get("stop_reason"), "message": result.get("message")}}
    return event


def normalize_sse(body: str) -> list:
    return [e for e in (normalize_event(e) for e in sse_events(body)) if e is not None]


def sse_diff(ours: str, python: str, ours_name: str = "ours", python_name: str = "python") -> str:
    """'' when the normalized event lists are equal, else a unified diff."""
    a = [json.dumps(e, sort_keys=False, ensure_ascii=False) for e in normalize_sse(ours)]
    b = [json.dumps(e, sort_keys=False, ensure_ascii=False) for e in normalize_sse(python)]
    if a == b:
        return ""
    return "\n".join(difflib.unified_diff(b, a, python_name, ours_name, lineterm="", n=2))


def json_diff(ours: bytes, python: bytes) -> str:
    """'' when the bodies are byte-identical."""
    if ours == python:
        return ""
    return f"python: {python!r}\nours:   {ours!r}"


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        ours_body = f.read()
    with open(sys.argv[2], encoding="utf-8") as f:
        python_body = f.read()
    diff = sse_diff(ours_body, python_body, sys.argv[1], sys.argv[2])
    if diff:
        print(diff)
        sys.exit(1)
    print(f"same events ({len(normalize_sse(ours_body))} after masking)")
