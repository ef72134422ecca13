"""Multi-agent turn cost (issue 21), Python Strands 1.62 against ours, same run.

Run by scripts/bench-multiagent after the Rust example `multiagent_bench`. The Python half does
what the example does: one turn of a three-node graph (research -> analyze -> report) and of a
three-agent swarm (researcher hands off to analyst, who hands off to writer), each built fresh
per turn over scripted zero-latency models, on one asyncio loop. Then both are summarised into
bench/results/multiagent.{json,md}.

Usage: python multiagent_bench.py RUST_JSON
"""

import asyncio
import copy
import json
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import date
from importlib.metadata import version
from pathlib import Path

from strands import Agent
from strands.models import Model
from strands.multiagent import GraphBuilder, Swarm

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
TURNS = int(os.environ.get("BENCH_PY_TURNS", "100"))


def text(answer):
    return [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {}}},
        {"contentBlockDelta": {"delta": {"text": answer}}},
        {"contentBlockStop": {}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 0}}},
    ]


def hand_off(to):
    return [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "h1", "name": "handoff_to_agent"}}}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps({"agent_name": to, "message": "your turn"})}}}},
        {"contentBlockStop": {}},
        {"messageStop": {"stopReason": "tool_use"}},
        {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 0}}},
    ]


class Scripted(Model):
    """Plays one scripted stream per call."""

    def __init__(self, steps):
        self.config = {"model_id": "scripted"}
        self.steps = steps
        self.calls = 0

    def update_config(self, **model_config):
        self.config.update(model_config)

    def get_config(self):
        return self.config

    async def structured_output(self, output_model, prompt, system_prompt=None, **kwargs):
        raise NotImplementedError
        yield  # pragma: no cover

    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):
        step = self.steps[self.calls]
        self.calls += 1
        for event in step:
            yield copy.deepcopy(event)


def agent(name, steps):
    return Agent(name=name, model=Scripted(steps), callback_handler=None)


async def graph_turn():
    builder = GraphBuilder()
    builder.add_node(agent("research", [text("Facts.")]), "research")
    builder.add_node(agent("analyze", [text("Analysis.")]), "analyze")
    builder.add_node(agent("report", [text("Report.")]), "report")
    builder.add_edge("research", "analyze")
    builder.add_edge("analyze", "report")
    builder.set_max_node_executions(10)
    result = await builder.build().invoke_async("Study the Moon.")
    assert result.status.value == "completed"


async def swarm_turn():
    swarm = Swarm(
        [
            agent("researcher", [hand_off("analyst"), text("handed off")]),
            agent("analyst", [hand_off("writer"), text("handed off")]),
            agent("writer", [text("Written.")]),
        ]
    )
    result = await swarm.invoke_async("Study the Moon.")
    assert len(result.node_history) == 3


async def measure(turn):
    for _ in range(TURNS // 10 + 1):
        await turn()
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(TURNS):
            await turn()
        samples.append((time.perf_counter() - started) * 1e6 / TURNS)
    return statistics.median(samples)


def main():
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    rust = json.loads(Path(sys.argv[1]).read_text())
    python = {"graph3_us": asyncio.run(measure(graph_turn)), "swarm3_us": asyncio.run(measure(swarm_turn))}
    results = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": {"strands_agents": version("strands-agents"), "turns": TURNS, "rounds": ROUNDS, **python},
        "rust": rust,
    }
    out = Path(__file__).resolve().parent / "results"
    (out / "multiagent.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        ("three-node graph turn (research → analyze → report)", "graph3_us"),
        ("three-agent swarm turn (two handoffs)", "swarm3_us"),
    ]
    lines = [
        "# Multi-agent turn cost (issue 21)",
        "",
        f"{results['date']}, {results['machine']}; `scripts/bench-multiagent`. Each turn builds the graph or swarm "
        "afresh over scripted zero-latency models and runs it in process on one event loop; the median of "
        f"{ROUNDS} rounds (Rust {rust['turns']} turns a round, Python {TURNS}).",
        "",
        "| turn | ours (µs) | Python Strands 1.62 (µs) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for label, key in rows:
        lines.append(f"| {label} | {rust[key]:.1f} | {python[key]:.1f} | {python[key] / rust[key]:.0f}× |")
    (out / "multiagent.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
