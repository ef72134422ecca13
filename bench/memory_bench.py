"""AgentCore Memory cost (issue 19), ours against Python on the same MiniStack, same run.

Run by scripts/bench-memory inside scripts/ministack. The Python half measures what the Rust
example `memory_bench` measures, with Strands 1.62 and bedrock-agentcore 1.25's
AgentCoreMemorySessionManager: the wall time of an agent turn (a scripted one-call answer)
without a session and with Memory over one continuing session, and the time to restore a
200-message session (building the Agent restores it). Then both are summarised into
bench/results/memory.{json,md}.

Usage: python memory_bench.py RUST_JSON   (the example's output)
"""

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import boto3
from strands import Agent
from strands.agent.conversation_manager import NullConversationManager
from strands.models import Model

from bedrock_agentcore.memory.integrations.strands.config import AgentCoreMemoryConfig
from bedrock_agentcore.memory.integrations.strands.session_manager import AgentCoreMemorySessionManager

TURNS = int(os.environ.get("BENCH_TURNS", "50"))
RESTORES = int(os.environ.get("BENCH_RESTORES", "20"))


class Noted(Model):
    """Answers every call with "Noted."."""

    def __init__(self):
        self.config = {"model_id": "scripted"}

    def update_config(self, **model_config):
        self.config.update(model_config)

    def get_config(self):
        return self.config

    async def structured_output(self, output_model, prompt, system_prompt=None, **kwargs):
        raise NotImplementedError
        yield  # pragma: no cover

    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockStart": {"start": {}}}
        yield {"contentBlockDelta": {"delta": {"text": "Noted."}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}}


def manager(session, batch_size=1):
    config = AgentCoreMemoryConfig(
        memory_id=os.environ["MINISTACK_MEMORY_ID"], session_id=session, actor_id="bench", batch_size=batch_size
    )
    return AgentCoreMemorySessionManager(config, boto_session=boto3.Session())


def turns(agent):
    """Streams TURNS prompts: each turn's wall time and the time to its first text."""

    async def run():
        whole, first = [], []
        for i in range(TURNS):
            start = time.perf_counter()
            first_text = None
            async for event in agent.stream_async(f"Remember item {i}"):
                if "data" in event and first_text is None:
                    first_text = (time.perf_counter() - start) * 1000
            whole.append((time.perf_counter() - start) * 1000)
            first.append(first_text)
        return whole, first

    return asyncio.run(run())


def python_side():
    run = uuid.uuid4().hex
    off, first_off = turns(Agent(model=Noted(), callback_handler=None))
    on, first_on = turns(Agent(model=Noted(), session_manager=manager(f"py-turns-{run}"), callback_handler=None))
    batch_manager = manager(f"py-batch-{run}", batch_size=10)
    batched, first_batched = turns(Agent(model=Noted(), session_manager=batch_manager, callback_handler=None))
    long = f"py-restore-{run}"
    writer = Agent(
        model=Noted(), session_manager=manager(long), conversation_manager=NullConversationManager(), callback_handler=None
    )
    for i in range(100):
        writer(f"Remember item {i}")
    restore = []
    for _ in range(RESTORES):
        start = time.perf_counter()
        agent = Agent(
            model=Noted(), session_manager=manager(long), conversation_manager=NullConversationManager(), callback_handler=None
        )
        restore.append((time.perf_counter() - start) * 1000)
        assert len(agent.messages) == 200, len(agent.messages)
    return {
        "turn_ms_off": off,
        "turn_ms_on": on,
        "turn_ms_batched": batched,
        "first_text_ms_off": first_off,
        "first_text_ms_on": first_on,
        "first_text_ms_batched": first_batched,
        "restore_ms": restore,
        "restore_messages": 200,
    }


def summary(samples):
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 2),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
    }


def summarise(side):
    off, on = summary(side["turn_ms_off"]), summary(side["turn_ms_on"])
    batched = summary(side["turn_ms_batched"])
    return {
        "turn_off_ms": off,
        "turn_on_ms": on,
        "turn_batched_ms": batched,
        "first_text_off_ms": summary(side["first_text_ms_off"]),
        "first_text_on_ms": summary(side["first_text_ms_on"]),
        "first_text_batched_ms": summary(side["first_text_ms_batched"]),
        "added_per_turn_ms": round(on["median"] - off["median"], 2),
        "added_per_turn_batched_ms": round(batched["median"] - off["median"], 2),
        "restore_200_ms": summary(side["restore_ms"]),
    }


def main():
    rust = json.loads(Path(sys.argv[1]).read_text())
    python = python_side()
    result = {
        "turns": TURNS,
        "restores": RESTORES,
        "backend": "MiniStack 1.5.33 on loopback (AUTH=true, SigV4 verified)",
        "ours": summarise(rust),
        "python": summarise(python),
    }
    out = Path(__file__).parent / "results"
    (out / "memory.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        ("turn, no session (median / p90 ms)", "turn_off_ms"),
        ("turn, AgentCore Memory (median / p90 ms)", "turn_on_ms"),
        ("turn, AgentCore Memory, batch_size 10 (median / p90 ms)", "turn_batched_ms"),
        ("first text, no session (median / p90 ms)", "first_text_off_ms"),
        ("first text, AgentCore Memory (median / p90 ms)", "first_text_on_ms"),
        ("first text, AgentCore Memory, batch_size 10 (median / p90 ms)", "first_text_batched_ms"),
        ("restore a 200-message session (median / p90 ms)", "restore_200_ms"),
    ]
    lines = [
        "# AgentCore Memory: ours against Python, same MiniStack, same run",
        "",
        f"{TURNS} turns per side (scripted one-call answer), {RESTORES} restores; {result['backend']}.",
        "",
        "| | ours | Python |",
        "|---|---|---|",
    ]
    for label, key in rows:
        o, p = result["ours"][key], result["python"][key]
        lines.append(f"| {label} | {o['median']} / {o['p90']} | {p['median']} / {p['p90']} |")
    lines.append(
        f"| added per turn by Memory (median ms) | {result['ours']['added_per_turn_ms']} | {result['python']['added_per_turn_ms']} |"
    )
    lines.append(
        f"| added per turn by Memory, batch_size 10 (median ms) | {result['ours']['added_per_turn_batched_ms']} | {result['python']['added_per_turn_batched_ms']} |"
    )
    (out / "memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
