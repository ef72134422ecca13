"""Runs MiniStack (PyPI `ministack`, pinned by scripts/ministack) with one correction that makes it
list AgentCore Memory events as the real service does.

AgentCore's ListEvents returns a session's events newest first (captured against the service:
floci-io/floci#3556; bedrock-agentcore-sdk-python#97 and #552 build on it, and Python's
AgentCoreMemorySessionManager relies on it: it reads the newest agent snapshot as `events[0]` and
reverses the listing to restore a conversation). MiniStack 1.5.33 lists them oldest first, so
without this a Python agent restores its history backwards. Everything else is MiniStack's own
code: filters and pagination run unchanged over the reordered events.

A second correction makes it authorize the Memory data plane and the runtime control plane as AWS
does: MiniStack 1.5.33 maps no IAM action to those routes, so with AUTH=true any valid key may read and write every memory. Here
each route gets its action (`bedrock-agentcore:CreateEvent`, ...), checked against the caller's
identity policies by MiniStack's own enforcement.

A third makes InvokeAgentRuntime reach a local server when a runtime's environment asks for it
(`MINISTACK_FORWARD_TO`), since MiniStack would otherwise need Docker to run the image.

Usage: python launch.py  (same environment variables as the `ministack` command)
"""

import re
import sys
from urllib.parse import unquote

from ministack.app import main
from ministack.core import iam_actions
from ministack.services import bedrock_agentcore as agentcore

_list_events = agentcore._list_events


def _newest_first(raw_memory_id, actor_id, session_id, body):
    memory_id, scope, error = agentcore._resolve_memory(raw_memory_id)
    if error:
        return _list_events(raw_memory_id, actor_id, session_id, body)
    bucket = agentcore._events_bucket(memory_id, scope)
    session = bucket.get(unquote(actor_id), {}).get(unquote(session_id))
    if not session:
        return _list_events(raw_memory_id, actor_id, session_id, body)
    stored = session["events"]
    session["events"] = sorted(stored, key=lambda e: (e["eventTimestamp"], e["_seq"]), reverse=True)
    try:
        return _list_events(raw_memory_id, actor_id, session_id, body)
    finally:
        session["events"] = stored


agentcore._list_events = _newest_first

_create_event = agentcore._create_event


_throttle_counts = {}


def _throttled_on_demand(raw_memory_id, body):
    """CreateEvent throttled on demand: always for a body holding THROTTLE-ME, and the first N
    times for a body holding THROTTLE-<N>X-<tag> (then it goes through, as a passing burst)."""
    body = body or b""
    if b"THROTTLE-ME" in body:
        return agentcore.error_response_json("ThrottlingException", "Rate exceeded", 429)
    marker = re.search(rb"THROTTLE-(\d+)X-([A-Za-z0-9]+)", body)
    if marker:
        seen = _throttle_counts.get(marker.group(0), 0)
        _throttle_counts[marker.group(0)] = seen + 1
        if seen < int(marker.group(1)):
            return agentcore.error_response_json("ThrottlingException", "Rate exceeded", 429)
    return _create_event(raw_memory_id, body)


agentcore._create_event = _throttled_on_demand

# The Memory data-plane routes of the AgentCore API reference, by HTTP method.
_MEMORY_ROUTES = [
    ("POST", r"/memories/[^/]+/events", "CreateEvent"),
    ("POST", r"/memories/[^/]+/actor/.+/sessions/[^/]+", "ListEvents"),
    ("POST", r"/memories/[^/]+/actor/.+/sessions", "ListSessions"),
    ("POST", r"/memories/[^/]+/actors", "ListActors"),
    ("GET", r"/memories/[^/]+/actor/.+/sessions/[^/]+/events/[^/]+", "GetEvent"),
    ("DELETE", r"/memories/[^/]+/actor/.+/sessions/[^/]+/events/[^/]+", "DeleteEvent"),
    ("POST", r"/memories/[^/]+/retrieve", "RetrieveMemoryRecords"),
    ("POST", r"/memories/[^/]+/memoryRecords", "ListMemoryRecords"),
    # The runtime control plane (`strands-runtime deploy`), unmapped in MiniStack 1.5.33 too.
    ("PUT", r"/runtimes/?", "CreateAgentRuntime"),
    ("POST", r"/runtimes/?", "ListAgentRuntimes"),
    ("GET", r"/runtimes/[^/]+/?", "GetAgentRuntime"),
    ("PUT", r"/runtimes/[^/]+/?", "UpdateAgentRuntime"),
    ("DELETE", r"/runtimes/[^/]+/?", "DeleteAgentRuntime"),
    ("POST", r"/runtimes/[^/]+/versions/?", "ListAgentRuntimeVersions"),
]
_extract_iam_action = iam_actions.extract_iam_action


def _with_agentcore_actions(service, method, path, headers, body, query_params):
    action = _extract_iam_action(service, method, path, headers, body, query_params)
    if action is None and service == "bedrock-agentcore" and "/invocations" not in path:
        route = unquote(path.split("?", 1)[0])
        for verb, pattern, name in _MEMORY_ROUTES:
            if method == verb and re.fullmatch(pattern, route):
                return f"bedrock-agentcore:{name}"
    return action


iam_actions.extract_iam_action = _with_agentcore_actions

_invoke_in_owner = agentcore._invoke_agent_runtime_in_owner


def _forward_when_asked(runtime, headers, body):
    """InvokeAgentRuntime forwarded to a server on this machine when the runtime's environment
    names one (MINISTACK_FORWARD_TO=http://127.0.0.1:<port>/invocations): MiniStack's own
    container path (`_invoke_container`: headers, streaming, 424 on failure) without Docker,
    which this machine lacks. Runtimes that name none get MiniStack's echo, unchanged."""
    target = (runtime.get("environmentVariables") or {}).get("MINISTACK_FORWARD_TO")
    if not target:
        return _invoke_in_owner(runtime, headers, body)
    session_id = headers.get("x-amzn-bedrock-agentcore-runtime-session-id") or agentcore.new_uuid()
    content_type = headers.get("content-type", "application/json")
    return agentcore._invoke_container(target, body, headers, content_type, session_id)


agentcore._invoke_agent_runtime_in_owner = _forward_when_asked

if __name__ == "__main__":
    sys.exit(main())
