"""Continue an AgentCore Memory conversation with the real Python stack: Strands 1.62 and
bedrock-agentcore 1.25's AgentCoreMemorySessionManager (the `.venv/memory` venv of
scripts/memory-python).

Usage: python python_memory_agent.py MEMORY_ID ACTOR_ID SESSION_ID PROMPT REPLY [RETRIEVAL_CONFIG_JSON]

The endpoint and keys come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION): MiniStack in the tests. The agent restores the session when it
is built, is invoked once with PROMPT, and its model answers REPLY. With RETRIEVAL_CONFIG_JSON
(`{"namespace": {"top_k": .., "relevance_score": ..}}`) the manager also injects long-term memory.
Prints one JSON object: {"restored": [...], "after": [...], "model_saw": [...]}, the agent's
messages (role and content) after restoring and after the invocation, and the messages its model
was last called with.
"""

import json
import sys

import boto3
from strands import Agent
from strands.models import Model

from bedrock_agentcore.memory.integrations.strands.config import AgentCoreMemoryConfig, RetrievalConfig
from bedrock_agentcore.memory.integrations.strands.session_manager import AgentCoreMemorySessionManager


class ReplyModel(Model):
    """A model that answers every call with one text."""

    def __init__(self, reply):
        self.reply = reply
        self.config = {"model_id": "scripted"}
        self.saw = []

    def update_config(self, **model_config):
        self.config.update(model_config)

    def get_config(self):
        return self.config

    async def structured_output(self, output_model, prompt, system_prompt=None, **kwargs):
        raise NotImplementedError("no structured output")
        yield  # pragma: no cover

    async def stream(self, messages, tool_specs=None, system_prompt=None, **kwargs):
        self.saw = turns(messages)
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockStart": {"start": {}}}
        yield {"contentBlockDelta": {"delta": {"text": self.reply}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}}


def turns(messages):
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def main():
    memory_id, actor_id, session_id, prompt, reply = sys.argv[1:6]
    retrieval = None
    if len(sys.argv) > 6:
        retrieval = {ns: RetrievalConfig(**spec) for ns, spec in json.loads(sys.argv[6]).items()}
    config = AgentCoreMemoryConfig(
        memory_id=memory_id, session_id=session_id, actor_id=actor_id, retrieval_config=retrieval
    )
    manager = AgentCoreMemorySessionManager(config, boto_session=boto3.Session())
    model = ReplyModel(reply)
    agent = Agent(model=model, session_manager=manager, callback_handler=None)
    restored = turns(agent.messages)
    agent(prompt)
    print(json.dumps({"restored": restored, "after": turns(agent.messages), "model_saw": model.saw}))


if __name__ == "__main__":
    main()
