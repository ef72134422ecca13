"""The Python counterpart of `strands-runtime serve` with three MCP servers in its agent file: a
BedrockAgentCoreApp whose module starts three MCPClients (two stdio servers, one streamable
HTTP), as Python Strands apps on AgentCore do, then serves. scripts/bench-mcp times spawn to the
first 200 on /ping.

    mcp_app.py PYTHON FIXTURE HTTP_URL PORT
"""

import sys

from bedrock_agentcore.runtime import BedrockAgentCoreApp
from mcp.client.stdio import StdioServerParameters, stdio_client
from strands import Agent
from strands.tools.mcp import MCPClient

python, fixture, url, port = sys.argv[1:5]
clients = [
    MCPClient(lambda: stdio_client(StdioServerParameters(command=python, args=[fixture]))),
    MCPClient(lambda: stdio_client(StdioServerParameters(command=python, args=[fixture]))),
    MCPClient(url=url),
]
for client in clients:
    client.start()
tools = [tool for client in clients for tool in client.list_tools_sync()]
app = BedrockAgentCoreApp()


@app.entrypoint
def invoke(payload):
    agent = Agent(tools=tools)
    return {"result": str(agent(payload.get("prompt", "")))}


if __name__ == "__main__":
    app.run(port=int(port))
