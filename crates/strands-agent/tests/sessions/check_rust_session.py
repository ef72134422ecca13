"""Load a FileSessionManager session with the real Python Strands SDK, check it, continue it.

Requires ``strands-agents==1.62.0`` (``scripts/python-strands`` prints an interpreter that
has it). Usage:

    python check_rust_session.py STORAGE_DIR SESSION_ID EXPECTATIONS_JSON OUTPUT_JSON [--no-continue]

What it does:

1. ``FileSessionManager(session_id=SESSION_ID, storage_dir=STORAGE_DIR)`` plus a fresh
   ``Agent(agent_id=..., session_manager=..., model=ScriptedModel(...), tools=[add, delete_file],
   conversation_manager=...)``: the agent restores itself from
   ``STORAGE_DIR/session_<SESSION_ID>/agents/agent_<agent_id>/``.
2. Compares what was restored with EXPECTATIONS_JSON (below). On any mismatch it prints a
   unified diff per mismatching part and exits 1 (OUTPUT_JSON is not written).
3. Unless ``--no-continue``: runs one more invocation in Python. If the restored agent is in an
   interrupt state, the invocation input is one ``interruptResponse`` per pending interrupt
   (response ``continue.interrupt_response``); otherwise it is the text ``continue.prompt``.
   The scripted model answers every model call of that invocation with the text
   ``continue.reply``. Everything Python wrote goes to the same session directory, so the Rust
   side can load it again.
4. Writes OUTPUT_JSON (below) and exits 0.

Exit codes: 0 = restored state matched (and the continuation ran), 1 = mismatch, 2 = bad
arguments / wrong strands version / the continuation raised.

Bytes anywhere in messages are written in JSON the way the session files hold them:
``{"__bytes_encoded__": true, "data": "<standard base64 with padding>"}``; comparisons decode
both sides first.

EXPECTATIONS_JSON (one agent of the session; unknown keys are ignored)::

    {
      "agent_id": "default",                      # optional, default "default"
      "messages": [                               # required: the restored agent.messages, in order
        {"role": "user", "content": [...],        # role and content are always compared exactly
         "tracking_id": "…",                      # compared always (a missing key == null)
         "metadata": {...}}                       # compared only when the key is present here
      ],
      "state": {...},                             # required: agent.state.get()
      "conversation_manager_state": {             # required: agent.conversation_manager.get_state()
        "__name__": "SlidingWindowConversationManager",
        "removed_message_count": 0,
        "model_call_count": 0
      },
      "conversation_manager": {                   # optional: how to build the Python manager;
        "type": "SlidingWindowConversationManager",   # default: type = the __name__ above and
        "window_size": 40                              # the SDK defaults (window_size 40)
      },                                          # types: SlidingWindowConversationManager
                                                  # (window_size, should_truncate_results),
                                                  # NullConversationManager
      "interrupt": null | {                       # optional. Absent: not checked. null: the agent
        "id": "v1:tool_call:…", "name": "approve",    # must not be interrupted. Object: the agent
        "reason": {...}                                # must be interrupted (activated) and hold
      },                                               # exactly this one interrupt, unanswered
      "continue": {                               # optional, all keys optional
        "prompt": "continue in python",
        "reply": "continued in python",
        "interrupt_response": "approved"
      }
    }

OUTPUT_JSON::

    {
      "strands_version": "1.62.0",
      "agent_id": "default",
      "restored_messages": [...],                 # agent.messages right after restore
      "continued": true,                          # false with --no-continue
      "input": "continue in python" | [{"interruptResponse": {...}}] | null,
      "stop_reason": "end_turn" | null,
      "result_text": "continued in python\n" | null,
      "model_calls": [{"messages": [...], "system_prompt": null}],   # what the model received
      "messages": [...],                          # agent.messages after the Python turn
      "state": {...},
      "conversation_manager_state": {...},
      "interrupt_state": {...}                    # agent._interrupt_state.to_dict()
    }

Tools available to the agent (the Rust side must register tools with the same names if its
sessions use them):

* ``add(a: int, b: int) -> int`` (context tool): returns ``a + b`` and sets agent state
  ``last_sum`` = a + b and ``add_calls`` = previous + 1.
* ``delete_file(path: str) -> str`` (context tool): calls
  ``tool_context.interrupt("approve", reason={"action": "delete", "path": path, "risk": "high"})``
  and returns ``f"deleted {path} (approval: {response})"`` once answered.

The generator of the checked-in Python fixtures (``../fixtures/sessions/generate.py``) imports
``ScriptedModel``, the tools and the JSON helpers from this file.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import difflib
import importlib.util
import json
import sys
from importlib.metadata import version as pkg_version
from pathlib import Path
from typing import Any

from strands import Agent, tool
from strands.agent.conversation_manager import NullConversationManager, SlidingWindowConversationManager
from strands.models.model import Model
from strands.session.file_session_manager import FileSessionManager
from strands.types.session import decode_bytes_values, encode_bytes_values

STRANDS_VERSION = "1.62.0"


# --------------------------------------------------------------------------- scripted model


class ScriptExhausted(RuntimeError):
    """Raised when the scripted model is called more often than scripted."""


class ScriptedModel(Model):
    """A Strands model replaying one scripted step (a list of StreamEvents) per call.

    ``default_step``, when set, answers every call beyond the scripted steps.
    """

    def __init__(self, steps: list[dict[str, Any]] | None = None, default_step: dict[str, Any] | None = None):
        self.config: dict[str, Any] = {"model_id": "scripted-session-model"}
        self.steps = copy.deepcopy(steps or [])
        self.default_step = copy.deepcopy(default_step)
        self.calls: list[dict[str, Any]] = []

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> dict[str, Any]:
        return self.config

    async def structured_output(self, output_model, prompt, system_prompt=None, **kwargs):  # type: ignore[override]
        raise NotImplementedError("ScriptedModel does not support structured output")
        yield  # pragma: no cover

    async def stream(  # type: ignore[override]
        self,
        messages,
        tool_specs=None,
        system_prompt=None,
        *,
        tool_choice=None,
        **kwargs: Any,
    ):
        index = len(self.calls)
        self.calls.append({"messages": copy.deepcopy(messages), "system_prompt": system_prompt})
        if index < len(self.steps):
            step = self.steps[index]
        elif self.default_step is not None:
            step = self.default_step
        else:
            raise ScriptExhausted(f"scripted model has no step {index}")
        for event in step["events"]:
            yield copy.deepcopy(event)


def _parity_builders() -> Any:
    """The stream builders of the loop-parity fixture generator, reused so both scripts build
    model streams the same way."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "parity" / "generate.py"
    spec = importlib.util.spec_from_file_location("strands_parity_generate", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, so pydantic resolves the generator's postponed annotations
    # (its tools take models and `Optional`s) in the module's namespace.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_PARITY = _parity_builders()
text_block = _PARITY.text_block
tool_block = _PARITY.tool_block
model_message = _PARITY.message
text_step = _PARITY.text_step


def tool_step(tool_use_id: str, name: str, input_json: str, text: str | None = None) -> dict[str, Any]:
    blocks = text_block(text) if text else []
    return model_message(blocks + tool_block(tool_use_id, name, input_json), "tool_use")


# --------------------------------------------------------------------------- tools


@tool(context=True)
def add(a: int, b: int, tool_context) -> int:  # type: ignore[no-untyped-def]
    """Add two integers.

    Args:
        a: first addend
        b: second addend
    """
    state = tool_context.agent.state
    state.set("last_sum", a + b)
    state.set("add_calls", (state.get("add_calls") or 0) + 1)
    return a + b


@tool(context=True)
def delete_file(path: str, tool_context) -> str:  # type: ignore[no-untyped-def]
    """Delete a file after a human approved it.

    Args:
        path: the file to delete
    """
    response = tool_context.interrupt("approve", reason={"action": "delete", "path": path, "risk": "high"})
    return f"deleted {path} (approval: {response})"


TOOLS = [add, delete_file]


# --------------------------------------------------------------------------- JSON helpers


def to_json(obj: Any) -> Any:
    """A JSON-ready deep copy: bytes encoded as in the session files."""
    return json.loads(json.dumps(encode_bytes_values(copy.deepcopy(obj))))


def dump(obj: Any) -> str:
    return json.dumps(to_json(obj), indent=2, sort_keys=True, ensure_ascii=False)


def build_conversation_manager(expect: dict[str, Any]) -> Any:
    spec = dict(expect.get("conversation_manager") or {})
    kind = spec.pop("type", None) or expect["conversation_manager_state"].get("__name__")
    if kind == "SlidingWindowConversationManager":
        return SlidingWindowConversationManager(**spec)
    if kind == "NullConversationManager":
        return NullConversationManager()
    raise SystemExit(f"check_rust_session: unsupported conversation manager {kind!r}")


def restore_agent(
    storage_dir: str, session_id: str, agent_id: str, conversation_manager: Any, model: Model
) -> tuple[Agent, FileSessionManager]:
    session_manager = FileSessionManager(session_id=session_id, storage_dir=storage_dir)
    agent = Agent(
        agent_id=agent_id,
        model=model,
        tools=list(TOOLS),
        session_manager=session_manager,
        conversation_manager=conversation_manager,
        callback_handler=None,
    )
    return agent, session_manager


# --------------------------------------------------------------------------- checking


class Mismatches:
    def __init__(self) -> None:
        self.items: list[str] = []

    def compare(self, what: str, expected: Any, actual: Any) -> None:
        if decode_bytes_values(to_json(expected)) == decode_bytes_values(to_json(actual)):
            return
        diff = difflib.unified_diff(
            dump(expected).splitlines(),
            dump(actual).splitlines(),
            fromfile=f"expected {what}",
            tofile=f"restored {what}",
            lineterm="",
        )
        self.items.append(f"--- mismatch: {what}\n" + "\n".join(diff))


def project_message(actual: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    keys = ["role", "content", "tracking_id"] + (["metadata"] if "metadata" in expected else [])
    return {k: actual.get(k) for k in keys}


def expected_message(expected: dict[str, Any]) -> dict[str, Any]:
    keys = ["role", "content", "tracking_id"] + (["metadata"] if "metadata" in expected else [])
    return {k: expected.get(k) for k in keys}


def check(agent: Agent, expect: dict[str, Any]) -> Mismatches:
    m = Mismatches()
    exp_messages = expect["messages"]
    actual = agent.messages
    if len(actual) != len(exp_messages):
        m.items.append(f"--- mismatch: message count: expected {len(exp_messages)}, restored {len(actual)}")
    for i in range(max(len(actual), len(exp_messages))):
        exp = exp_messages[i] if i < len(exp_messages) else None
        act = actual[i] if i < len(actual) else None
        m.compare(
            f"messages[{i}]",
            expected_message(exp) if exp is not None else None,
            project_message(act, exp or {}) if act is not None else None,
        )
    m.compare("state", expect["state"], agent.state.get())
    m.compare("conversation_manager_state", expect["conversation_manager_state"], agent.conversation_manager.get_state())

    if "interrupt" in expect:
        state = agent._interrupt_state
        exp = expect["interrupt"]
        if exp is None:
            m.compare("interrupt (activated)", False, state.activated)
        else:
            m.compare("interrupt (activated)", True, state.activated)
            m.compare(
                "interrupts",
                {exp["id"]: {"id": exp["id"], "name": exp["name"], "reason": exp.get("reason"), "response": None}},
                {k: v.to_dict() for k, v in state.interrupts.items()},
            )
            m.compare("pending tool execution present", True, state.pending_tool_execution is not None)
    return m


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("storage_dir")
    parser.add_argument("session_id")
    parser.add_argument("expectations")
    parser.add_argument("output")
    parser.add_argument("--no-continue", action="store_true", help="only check the restored state")
    args = parser.parse_args(argv)

    installed = pkg_version("strands-agents")
    if installed != STRANDS_VERSION:
        print(f"check_rust_session: strands-agents=={STRANDS_VERSION} required, found {installed}", file=sys.stderr)
        return 2

    expect = json.loads(Path(args.expectations).read_text(encoding="utf-8"))
    agent_id = expect.get("agent_id", "default")
    cont = {"prompt": "continue in python", "reply": "continued in python", "interrupt_response": "approved"}
    cont.update(expect.get("continue") or {})

    model = ScriptedModel(default_step=text_step(cont["reply"]))
    agent, _ = restore_agent(
        args.storage_dir, args.session_id, agent_id, build_conversation_manager(expect), model
    )
    restored = to_json(agent.messages)

    mismatches = check(agent, expect)
    if mismatches.items:
        print(
            f"check_rust_session: session {args.session_id!r} agent {agent_id!r} in {args.storage_dir} "
            "does not restore as expected:",
            file=sys.stderr,
        )
        for item in mismatches.items:
            print(item, file=sys.stderr)
        return 1

    prompt: Any = None
    result = None
    if not args.no_continue:
        state = agent._interrupt_state
        if state.activated:
            prompt = [
                {"interruptResponse": {"interruptId": iid, "response": cont["interrupt_response"]}}
                for iid, intr in state.interrupts.items()
                if intr.response is None
            ]
        else:
            prompt = cont["prompt"]
        try:
            result = asyncio.run(agent.invoke_async(copy.deepcopy(prompt)))
        except Exception as e:  # noqa: BLE001 - report whatever Python raised
            print(f"check_rust_session: continuing in Python raised {type(e).__name__}: {e}", file=sys.stderr)
            return 2

    output = {
        "strands_version": installed,
        "agent_id": agent_id,
        "restored_messages": restored,
        "continued": not args.no_continue,
        "input": to_json(prompt),
        "stop_reason": result.stop_reason if result is not None else None,
        "result_text": str(result) if result is not None else None,
        "model_calls": to_json(model.calls),
        "messages": to_json(agent.messages),
        "state": to_json(agent.state.get()),
        "conversation_manager_state": to_json(agent.conversation_manager.get_state()),
        "interrupt_state": to_json(agent._interrupt_state.to_dict()),
    }
    Path(args.output).write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"check_rust_session: ok: {len(restored)} restored messages match; "
        + (f"Python continued ({result.stop_reason}), now {len(agent.messages)} messages" if result else "not continued")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
