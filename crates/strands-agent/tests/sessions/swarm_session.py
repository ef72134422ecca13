"""One side of the swarm session round trips of ``tests/swarm_session.rs``, in real Python
Strands 1.62 with its ``FileSessionManager``.

    swarm_session.py create <storage_dir> <session_id> <output.json>
        Runs the publishing swarm until the writer's ``publish`` tool asks for approval, leaving
        the session interrupted.
    swarm_session.py resume <storage_dir> <session_id> <answer> <output.json>
        Restores the swarm from the session and answers every open interrupt with <answer>.

The swarm: ``researcher`` hands off to ``writer`` (context ``{"title": "Moon"}``); ``writer``
calls ``publish``, which interrupts for approval, then answers "Published.". Each agent's
scripted model holds only the steps the mode needs, so a step replayed by mistake fails loudly.
The output records the result's status, text, interrupts and node history, and the writer's
messages.
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
from strands.multiagent import Swarm  # noqa: E402
from strands.session.file_session_manager import FileSessionManager  # noqa: E402

TASK = "Publish the Moon report."


def swarm(storage_dir: str, session_id: str, researcher_steps: list[Any], writer_steps: list[Any]) -> Swarm:
    researcher = Agent(name="researcher", model=gen.NodeModel(researcher_steps), callback_handler=None)
    writer = Agent(name="writer", model=gen.NodeModel(writer_steps), tools=[gen.publish], callback_handler=None)
    manager = FileSessionManager(session_id=session_id, storage_dir=storage_dir)
    return Swarm([researcher, writer], session_manager=manager)


def output(result: Any, team: Swarm) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "text": str(result),
        "interrupts": [i.to_dict() for i in result.interrupts],
        "node_history": [n.node_id for n in result.node_history],
        "writer_messages": gen.strip_messages(team.nodes["writer"].executor.messages),
    }


async def main() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)
    mode, storage_dir, session_id = sys.argv[1:4]
    if mode == "create":
        team = swarm(
            storage_dir,
            session_id,
            [gen.handoff("h1", "writer", "publish it", {"title": "Moon"}), gen.text_step("to writer")],
            [gen.message(gen.tool_block("p1", "publish", json.dumps({"title": "Moon"})), "tool_use")],
        )
        result = await team.invoke_async(TASK)
        out_path = sys.argv[4]
    elif mode == "resume":
        answer, out_path = sys.argv[4:6]
        team = swarm(storage_dir, session_id, [], [gen.text_step("Published.")])
        responses = [
            {"interruptResponse": {"interruptId": interrupt_id, "response": answer}}
            for interrupt_id in team._interrupt_state.interrupts
        ]
        if not responses:
            sys.exit("the restored swarm has no open interrupt")
        result = await team.invoke_async(responses)
    else:
        sys.exit(f"unknown mode {mode!r}")
    Path(out_path).write_text(json.dumps(output(result, team), indent=2))


if __name__ == "__main__":
    asyncio.run(main())
