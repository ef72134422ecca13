"""Python twins of the Rust micro-benchmarks that the baseline's bench_inproc.py does not have,
measured with bench_inproc's own timers (same warm-up, rounds, pinning and nice):

  async_fresh_ten_tools   await make_agent(TenToolsModel).invoke_async(...): one message with 10 `add`
                          tool uses (input in 2 deltas each, like fake_model's tool_request), then the
                          canned final answer. Twin of agent_turn `turn::ten_tools`.
  sse_text_delta          BedrockAgentCoreApp._convert_to_sse(one text-delta event of stream_async)
  sse_tool_turn           _convert_to_sse over every event of one tool turn (stream_async)
  json_tool_turn_history  json.dumps(agent.messages, ensure_ascii=False) after the tool turn
  json_result_body        json.dumps({"result": str(result)}, ensure_ascii=False)
  json_text_delta_event   json.dumps({"contentBlockDelta": {"delta": {"text": ...}}}, ensure_ascii=False)
  json_parse_history      json.loads of the history JSON

Usage: python py_extra.py REPS ROUND_S   -> one JSON object on stdout (µs per call: median, min, max)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

import baseline

h = baseline.harness
inproc = baseline.import_script("bench_inproc")
from bedrock_agentcore.runtime import BedrockAgentCoreApp  # noqa: E402
from fake_model import CANNED, TOOL_INPUT_DELTAS, TOOL_PROMPT, FakeModel, _copy, choose_script, make_agent  # noqa: E402

inproc.REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
inproc.ROUND_S = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5


def _ten_tool_request():
    events = [{"messageStart": {"role": "assistant"}}]
    for i in range(10):
        events.append({"contentBlockStart": {"start": {"toolUse": {"toolUseId": f"tooluse_bench_{i:04d}", "name": "add"}}}})
        events.extend({"contentBlockDelta": {"delta": {"toolUse": {"input": d}}}} for d in TOOL_INPUT_DELTAS)
        events.append({"contentBlockStop": {}})
    events.append({"messageStop": {"stopReason": "tool_use"}})
    events.append({"metadata": {"usage": {"inputTokens": 60, "outputTokens": 200, "totalTokens": 260},
                                "metrics": {"latencyMs": 0}}})
    return events


TEN = _ten_tool_request()


class TenToolsModel(FakeModel):
    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):  # type: ignore[override]
        script = CANNED["tool_final_answer"] if choose_script(messages) == "tool_final_answer" else TEN
        for event in script:
            yield _copy(event)


TEN_MODEL = TenToolsModel()


def summary(rounds):
    us = [r[0] for r in rounds]
    return {"median": statistics.median(us), "min": min(us), "max": max(us), "n": len(us),
            "cpu_us_median": statistics.median(r[3] for r in rounds)}


def time_plain(fn):
    """bench_inproc.time_sync, for sub-microsecond work: calls in batches of 100 between clock reads."""
    def batch():
        for _ in range(100):
            fn()
    rounds = inproc.time_sync(batch, warm=5)
    return [(r[0] / 100, r[1] * 100, r[2], r[3] / 100) for r in rounds]


async def collect_events(prompt):
    return [e async for e in make_agent().stream_async(prompt)]


def main():
    h.prioritize_self(h.SERVER_CPUS)
    out = {}

    # sanity: the ten-tool turn really runs ten tools
    agent = make_agent(TEN_MODEL)
    asyncio.run(agent.invoke_async("please add 2 and 3, ten times"))
    results = sum("toolResult" in b for m in agent.messages for b in m["content"])
    assert results == 10, results

    out["async_fresh_ten_tools"] = summary(inproc.time_async(
        lambda: make_agent(TEN_MODEL).invoke_async("please add 2 and 3, ten times")))

    app = BedrockAgentCoreApp()
    events = asyncio.run(collect_events(TOOL_PROMPT))
    delta = next(e for e in events if "data" in e and "delta" in e)
    out["sse_text_delta"] = summary(time_plain(lambda: app._convert_to_sse(delta)))
    out["sse_tool_turn"] = summary(inproc.time_sync(lambda: [app._convert_to_sse(e) for e in events], warm=5))
    out["sse_tool_turn"]["events"] = len(events)

    agent = make_agent()
    result = agent(TOOL_PROMPT)
    history = agent.messages
    text_event = {"contentBlockDelta": {"delta": {"text": "Hello! I am a canned "}}}
    body = {"result": str(result)}
    history_json = json.dumps(history, ensure_ascii=False)
    out["json_tool_turn_history"] = summary(time_plain(lambda: json.dumps(history, ensure_ascii=False)))
    out["json_result_body"] = summary(time_plain(lambda: json.dumps(body, ensure_ascii=False)))
    out["json_text_delta_event"] = summary(time_plain(lambda: json.dumps(text_event, ensure_ascii=False)))
    out["json_parse_history"] = summary(time_plain(lambda: json.loads(history_json)))
    out["_reps"], out["_round_s"], out["_at"] = inproc.REPS, inproc.ROUND_S, time.strftime("%Y-%m-%dT%H:%M:%S")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
