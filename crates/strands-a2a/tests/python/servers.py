"""Python Strands 1.62 A2A servers for tests/rust_client.rs, and what Python's own A2A client
tool (`strands.vended_tools.make_a2a_client`) gets from them.

    servers.py <port> <output.json>

Serves three agents on 127.0.0.1, each built per A2A context by an agent factory:

    <port>      Calculator  always answers "2 + 2 = 4"
    <port + 1>  Broken      its model fails
    <port + 2>  Publisher   its tool asks for approval (an interrupt: the task needs input)

Once they answer, runs Python's `a2a_client` tool against them (discover, send_message to each,
a missing message, an endpoint not allowed) and writes its spec and results as JSON, then
prints "ready" and serves until stdin closes.
"""

import asyncio
import json
import sys
import logging
import warnings

import httpx
import uvicorn
from strands import Agent, tool
from strands.models import Model
from strands.multiagent.a2a import A2AServer
from strands.types.tools import ToolContext
from strands.vended_tools import make_a2a_client

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)


class AnswerModel(Model):
    """Answers with `text`; with `tool`, first calls that tool (once per conversation)."""

    def __init__(self, text, tool=None, fail=False):
        self.config = {"model_id": "a2a-interop"}
        self.text, self.tool, self.fail = text, tool, fail

    def update_config(self, **config):
        self.config.update(config)

    def get_config(self):
        return self.config

    async def structured_output(self, output_model, prompt, system_prompt=None, **kwargs):
        raise NotImplementedError
        yield  # pragma: no cover

    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):
        if self.fail:
            raise RuntimeError("the model is down")
        answered = any("toolResult" in block for m in messages for block in m["content"])
        yield {"messageStart": {"role": "assistant"}}
        if self.tool and not answered:
            start = {"toolUse": {"toolUseId": "p1", "name": self.tool}}
            yield {"contentBlockStart": {"start": start}}
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"title": "Moon"}'}}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "tool_use"}}
        else:
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": self.text}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 0}}}


@tool(context=True)
def publish(title: str, tool_context: ToolContext) -> str:
    """Publish a document once a human approved it."""
    answer = tool_context.interrupt("approve", reason={"action": "publish", "title": title})
    return f"published {title} ({answer})"


def agents():
    return {
        "calculator": lambda _ctx: Agent(
            name="Calculator",
            description="Answers arithmetic questions.",
            model=AnswerModel("2 + 2 = 4"),
            callback_handler=None,
        ),
        "broken": lambda _ctx: Agent(
            name="Broken", description="Always fails.", model=AnswerModel("", fail=True), callback_handler=None
        ),
        "publisher": lambda _ctx: Agent(
            name="Publisher",
            description="Publishes documents.",
            model=AnswerModel("Published.", tool="publish"),
            tools=[publish],
            callback_handler=None,
        ),
    }


async def call(client_tool, tool_input):
    result = None
    async for event in client_tool.stream({"toolUseId": "t1", "name": "a2a_client", "input": tool_input}, {}):
        result = event
    return result.tool_result


async def python_tool_results(urls):
    client_tool = make_a2a_client(allowed_endpoints=list(urls.values()))
    out = {"spec": client_tool.tool_spec, "results": {}}
    calls = {
        "discover": {"operation": "discover", "endpoint": urls["calculator"]},
        "send": {"operation": "send_message", "endpoint": urls["calculator"], "message": "What is 2+2?"},
        "send_failing": {"operation": "send_message", "endpoint": urls["broken"], "message": "Hi"},
        "send_interrupting": {"operation": "send_message", "endpoint": urls["publisher"], "message": "Publish Moon"},
        "send_without_message": {"operation": "send_message", "endpoint": urls["calculator"]},
        "not_allowed": {"operation": "discover", "endpoint": "http://127.0.0.1:9/"},
    }
    for name, tool_input in calls.items():
        out["results"][name] = await call(client_tool, tool_input)
    return out


async def main(port, output):
    servers, urls = [], {}
    for offset, (name, factory) in enumerate(agents().items()):
        url = f"http://127.0.0.1:{port + offset}/"
        urls[name] = url
        app = A2AServer(agent_factory=factory, host="127.0.0.1", port=port + offset, http_url=url).to_starlette_app()
        config = uvicorn.Config(app, host="127.0.0.1", port=port + offset, log_level="warning")
        servers.append(uvicorn.Server(config))
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    async with httpx.AsyncClient() as client:
        for url in urls.values():
            for _ in range(200):
                try:
                    await client.get(url + ".well-known/agent-card.json")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
    out = {"urls": urls, **(await python_tool_results(urls))}
    with open(output, "w") as f:
        json.dump(out, f, indent=1)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for s in servers:
        s.should_exit = True
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
