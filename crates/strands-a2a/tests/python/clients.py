"""Real Python A2A clients against a Rust A2A server, for tests/python_clients.rs.

    clients.py <base_url> <scenario> <output.json>

Scenarios:
    plain      a2a-sdk 0.3's client (card, send, stream, follow-up in the same context,
               get_task with historyLength, cancel of a finished task), then Strands' A2AAgent
               (invoke and stream).
    interrupt  a2a-sdk's client sends a message whose tool asks for approval, then answers the
               interrupt on the same task.
    failing    a2a-sdk's client, streaming and not, against an agent whose model fails.

Writes what the clients saw as JSON.
"""

import asyncio
import json
import sys
import warnings
from pathlib import Path
from uuid import uuid4

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory, create_text_message_object
from a2a.types import DataPart, Message, Part, Role, TaskIdParams, TaskQueryParams
from strands.agent.a2a_agent import A2AAgent


def texts(parts):
    return [p.root.text for p in parts if hasattr(p.root, "text")]


def summary(task):
    return {
        "state": task.status.state.value,
        "artifacts": [texts(a.parts) for a in task.artifacts or []],
        "history": [(m.role.value, texts(m.parts)) for m in task.history or []],
        "context_id": task.context_id,
        "id": task.id,
    }


async def last_task(client, message):
    events = []
    async for event in client.send_message(message):
        events.append(event)
    task, _ = events[-1]
    return task, len(events)


async def plain(base, hc, out):
    card = await A2ACardResolver(httpx_client=hc, base_url=base).get_agent_card()
    out["card"] = card.model_dump(mode="json", exclude_none=True)
    for streaming in (False, True):
        client = ClientFactory(ClientConfig(httpx_client=hc, streaming=streaming)).create(card)
        task, count = await last_task(client, create_text_message_object(content="What is 2+2?"))
        follow_up = create_text_message_object(content="And again?")
        follow_up.context_id = task.context_id
        again, _ = await last_task(client, follow_up)
        got = await client.get_task(TaskQueryParams(id=task.id, history_length=1))
        try:
            await client.cancel_task(TaskIdParams(id=task.id))
            cancel = "no error"
        except Exception as error:  # noqa: BLE001 - the error is what is checked
            cancel = str(error)
        out[f"sdk_streaming_{str(streaming).lower()}"] = {
            "task": summary(task),
            "events": count,
            "follow_up": summary(again),
            "get_task": summary(got),
            "cancel_completed": cancel,
        }
    agent = A2AAgent(endpoint=base, timeout=30)
    result = await agent.invoke_async("hello")
    out["strands_invoke"] = {"stop_reason": result.stop_reason, "text": str(result)}
    streamed = [event async for event in agent.stream_async("hello again")]
    final = streamed[-1]["result"]
    out["strands_stream"] = {"stop_reason": final.stop_reason, "text": str(final), "events": len(streamed)}


async def interrupt(base, hc, out):
    card = await A2ACardResolver(httpx_client=hc, base_url=base).get_agent_card()
    client = ClientFactory(ClientConfig(httpx_client=hc, streaming=False)).create(card)
    task, _ = await last_task(client, create_text_message_object(content="Publish the Moon report."))
    out["paused"] = summary(task)
    status = task.status.message
    data = [p.root.data for p in status.parts if isinstance(p.root, DataPart)]
    out["paused_message"] = {"texts": texts(status.parts), "data": data}
    answers = [
        Part(root=DataPart(data={"interruptResponse": {"interruptId": i["interruptId"], "response": "yes"}}))
        for i in data[0]["interrupts"]
    ]
    resume = Message(message_id=uuid4().hex, role=Role.user, parts=answers, context_id=task.context_id, task_id=task.id)
    done, _ = await last_task(client, resume)
    out["resumed"] = summary(done)


async def failing(base, hc, out):
    card = await A2ACardResolver(httpx_client=hc, base_url=base).get_agent_card()
    for streaming in (False, True):
        client = ClientFactory(ClientConfig(httpx_client=hc, streaming=streaming)).create(card)
        task, _ = await last_task(client, create_text_message_object(content="Try."))
        out[f"streaming_{str(streaming).lower()}"] = summary(task) | {
            "status_texts": texts(task.status.message.parts) if task.status.message else []
        }


async def main():
    warnings.simplefilter("ignore")
    base, scenario, output = sys.argv[1:4]
    out = {}
    async with httpx.AsyncClient(timeout=30) as hc:
        await {"plain": plain, "interrupt": interrupt, "failing": failing}[scenario](base, hc, out)
    Path(output).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
