"""An MCP server on the Python SDK (mcp 2.x `MCPServer`, FastMCP's successor) that the Rust
tests talk to: over stdio (`fixture_server.py`) or stateless streamable HTTP
(`fixture_server.py http PORT`, at /mcp, JSON answers).

Its tools cover the cases the client maps: plain text, structured content, an image, an
error, a slow call (timeouts, cancellation), a large answer, a call that kills the server, and
one that adds a tool and tells the client its tool list changed.
"""

import asyncio
import base64
import os
import sys

from mcp.server.mcpserver import Context, Image, MCPServer

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

server = MCPServer("fixture")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
def pixel() -> Image:
    """A one-pixel PNG image."""
    return Image(data=PNG, format="png")


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the reason."""
    raise ValueError(reason)


@server.tool()
async def slow(seconds: float) -> str:
    """Sleeps, then answers."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(structured_output=False)
def big(megabytes: int) -> str:
    """A text answer of that many MiB (text only: structured output would double it)."""
    return "x" * (megabytes * 1024 * 1024)


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Adds a tool with that name (it echoes its text), then sends tools/list_changed."""

    def added(text: str) -> str:
        return f"{name}: {text}"

    server.add_tool(added, name=name, description=f"Added by grow: echoes as {name}")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


@server.tool()
def crash() -> str:
    """Kills the server process mid-call."""
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run(
            "streamable-http",
            host="127.0.0.1",
            port=int(sys.argv[2]),
            streamable_http_path="/mcp",
            stateless_http=True,
            json_response=True,
        )
    else:
        server.run()
