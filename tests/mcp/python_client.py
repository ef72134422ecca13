"""Python Strands' MCPClient (strands-agents 1.62 on mcp 2.x) as a peer of the Rust tests.

    python_client.py URL CALLS_JSON              # streamable HTTP
    python_client.py --stdio CALLS_JSON CMD ARG...

CALLS_JSON is a list of [tool_name, arguments]. Prints one JSON object: the tools listed
(name, description, inputSchema as Strands sees them) and each call's tool result, as
Strands hands it to the agent. HTTP requests carry an `Mcp-Session-Id` the client made up,
as the AgentCore platform adds one.
"""

import base64
import json
import sys
import time

from mcp.client.stdio import StdioServerParameters, stdio_client
from strands.tools.mcp import MCPClient


def main() -> None:
    if sys.argv[1] == "--stdio":
        calls = json.loads(sys.argv[2])
        params = StdioServerParameters(command=sys.argv[3], args=sys.argv[4:])
        client = MCPClient(lambda: stdio_client(params))
    else:
        calls = json.loads(sys.argv[2])
        client = MCPClient(url=sys.argv[1], headers={"Mcp-Session-Id": "platform-session-0001"})
    started = time.monotonic()
    with client:
        tools = client.list_tools_sync()
        print(f"listed after {time.monotonic() - started:.2f}s", file=sys.stderr)
        listed = [tool.tool_spec for tool in tools]
        results = []
        for index, (name, arguments) in enumerate(calls):
            result = client.call_tool_sync(f"py{index}", name, arguments)
            results.append(dict(result))
            print(f"{name} after {time.monotonic() - started:.2f}s", file=sys.stderr)
    print(json.dumps({"tools": listed, "results": results}, sort_keys=True, default=encode))


def encode(value: object) -> str:
    """Bytes (image and document sources) as base64, as the Rust side serializes them."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


if __name__ == "__main__":
    main()
