"""One side of the multi-agent session round trips of ``tests/multiagent_session.rs``, in real
Python Strands 1.62 with its ``FileSessionManager``.

    multiagent_session.py {swarm|graph} create <storage_dir> <session_id> <output.json>
        Runs the publishing team until the ``publish`` tool asks for approval, leaving the
        session interrupted.
    multiagent_session.py {swarm|graph} resume <storage_dir> <session_id> <answer> <output.json>
        Restores the team from the session and answers every open interrupt with <answer>.

The swarm: ``researcher`` hands off to ``writer`` (context ``{"title": "Moon"}``); ``writer``
calls ``publish``, which interrupts for approval, then answers "Published.". The graph:
``write`` → ``publisher`` (calls ``publish``, then answers "Published.") → ``announce``. Each
agent's scripted model holds only the steps the mode needs, so a step replayed by mistake fails
loudly. The output records the result's status, text, interrupts and node history (a graph's
execution order), and the messages of the agent that published.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("multiagent_generate", HERE.parent / "fixtures/multiagent/generate.py")
assert _spec is not None and _spec.loader is not None
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

from strands import Agent  # noqa: E402
from strands.multiagent import GraphBuilder, Swarm  # noqa: E402
from strands.session.file_session_manager import FileSessionManager  # noqa: E402

TASK = "Publish the Moon report."


def swarm(storage_dir: str, session_id: str, researcher_steps: list[Any], writer_steps: list[Any]) -> Swarm:
    researcher = Agent(name="researcher", model=gen.NodeModel(researcher_steps), callback_handler=None)
    writer = Agent(name="writer", model=gen.NodeModel(writer_steps), tools=[gen.publish], callback_handler=None)
    manager = FileSessionManager(session_id=session_id, storage_dir=storage_dir)
    return Swarm([researcher, writer], session_manager=manager)


def graph(storage_dir: str, session_id: str, steps: dict[str, list[Any]]) -> Any:
    builder = GraphBuilder()
    for name in ("write", "publisher", "announce"):
        tools = [gen.publish] if name == "publisher" else []
        builder.add_node(Agent(name=name, model=gen.NodeModel(steps[name]), tools=tools, callback_handler=None), node_id=name)
    builder.add_edge("write", "publisher")
    builder.add_edge("publisher", "announce")
    builder.set_max_node_executions(10)
    builder.set_session_manager(FileSessionManager(session_id=session_id, storage_dir=storage_dir))
    return builder.build()


def output(result: Any, team: Any, publisher: Agent) -> dict[str, Any]:
    history = result.node_history if hasattr(result, "node_history") else result.execution_order
    return {
        "status": result.status.value,
        "text": str(result),
        "interrupts": [i.to_dict() for i in result.interrupts],
        "node_history": [n.node_id for n in history],
        "publisher_messages": gen.strip_messages(publisher.messages),
    }


def build(kind: str, mode: str, storage_dir: str, session_id: str) -> tuple[Any, Agent]:
    publish_step = gen.message(gen.tool_block("p1", "publish", json.dumps({"title": "Moon"})), "tool_use")
    if kind == "swarm":
        if mode == "create":
            researcher = [gen.handoff("h1", "writer", "publish it", {"title": "Moon"}), gen.text_step("to writer")]
            team = swarm(storage_dir, session_id, researcher, [publish_step])
        else:
            team = swarm(storage_dir, session_id, [], [gen.text_step("Published.")])
        return team, team.nodes["writer"].executor
    if mode == "create":
        steps = {"write": [gen.text_step("Written.")], "publisher": [publish_step], "announce": []}
    else:
        steps = {"write": [], "publisher": [gen.text_step("Published.")], "announce": [gen.text_step("Announced.")]}
    team = graph(storage_dir, session_id, steps)
    return team, team.nodes["publisher"].executor


async def main() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)
    kind, mode, storage_dir, session_id = sys.argv[1:5]
    if kind not in ("swarm", "graph") or mode not in ("create", "resume"):
        sys.exit(f"unknown kind or mode {kind!r} {mode!r}")
    team, publisher = build(kind, mode, storage_dir, session_id)
    if mode == "create":
        result = await team.invoke_async(TASK)
        out_path = sys.argv[5]
    else:
        answer, out_path = sys.argv[5:7]
        responses = [
            {"interruptResponse": {"interruptId": interrupt_id, "response": answer}}
            for interrupt_id in team._interrupt_state.interrupts
        ]
        if not responses:
            sys.exit("the restored team has no open interrupt")
        result = await team.invoke_async(responses)
    Path(out_path).write_text(json.dumps(output(result, team, publisher), indent=2))


if __name__ == "__main__":
    asyncio.run(main())
