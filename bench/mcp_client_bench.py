"""Times tool calls through Python Strands' MCPClient (the counterpart of strands-mcp's
examples/call_bench.rs; same arguments, same JSON output).

    mcp_client_bench.py TOOL INPUT_JSON CALLS stdio CMD ARG...
    mcp_client_bench.py TOOL INPUT_JSON CALLS http URL
"""

import json
import sys
import time

from mcp.client.stdio import StdioServerParameters, stdio_client
from strands.tools.mcp import MCPClient


def main() -> None:
    tool, arguments, calls, kind, *rest = sys.argv[1:]
    arguments, calls = json.loads(arguments), int(calls)
    if kind == "stdio":
        params = StdioServerParameters(command=rest[0], args=rest[1:])
        client = MCPClient(lambda: stdio_client(params))
    else:
        client = MCPClient(url=rest[0])
    started = time.perf_counter()
    with client:
        client.list_tools_sync()
        connect_ms = (time.perf_counter() - started) * 1e3
        samples = []
        for index in range(calls):
            started = time.perf_counter()
            result = client.call_tool_sync(f"b{index}", tool, arguments)
            samples.append((time.perf_counter() - started) * 1e3)
            if result["status"] != "success":
                sys.exit(f"the call failed: {result}")
    print(json.dumps({"connect_ms": connect_ms, "call_ms": samples}))


if __name__ == "__main__":
    main()
