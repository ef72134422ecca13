"""Fixture app of the differential conformance suite, on the official bedrock-agentcore 1.25.0.

The Rust twin is crates/strands-runtime/examples/conformance_app.rs. Usage: python python_app.py PORT
"""

import sys

from bedrock_agentcore.runtime import BedrockAgentCoreApp, BedrockAgentCoreContext
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse

app = BedrockAgentCoreApp()


async def _stream():
    for item in ["tok1", {"k": "ü"}, 3, None, "a\nb", ""]:
        yield item
    raise RuntimeError("mid-stream fail")


async def _stream_ok():
    for i in range(3):
        yield {"i": i}


async def _stream_fail_first():
    raise RuntimeError("early")
    yield  # pragma: no cover  (makes this an async generator)


@app.entrypoint
def invoke(payload, context):
    mode = payload.get("mode", "echo") if isinstance(payload, dict) else "echo"
    if mode == "string":
        return "hello world"
    if mode == "null":
        return None
    if mode == "number":
        return 42
    if mode == "bool":
        return True
    if mode == "nested":
        return {"a": [1, 2.5, {"b": None}], "c": "世界", "d": 'line\nbreak "q"'}
    if mode == "raise":
        raise ValueError("boom ü")
    if mode == "teapot":
        raise HTTPException(418, "teapot")
    if mode == "unprocessable":
        raise HTTPException(422, "bad input")
    if mode == "response":
        return PlainTextResponse("plain", status_code=202, headers={"x-a": "b"})
    if mode == "stream":
        return _stream()
    if mode == "stream_ok":
        return _stream_ok()
    if mode == "stream_fail_first":
        return _stream_fail_first()
    if mode == "ctx":
        return {
            "session_id": context.session_id,
            "headers": context.request_headers,
            "request_id": BedrockAgentCoreContext.get_request_id(),
            "wat": BedrockAgentCoreContext.get_workload_access_token(),
            "cb": BedrockAgentCoreContext.get_oauth2_callback_url(),
        }
    return payload


@app.websocket
async def websocket(websocket, context):
    await websocket.accept()
    while True:
        try:
            message = await websocket.receive_json()
        except Exception:  # the client closed the connection
            return
        if "fail" in message:
            raise RuntimeError("asked to fail")
        await websocket.send_json({"echo": message, "session": context.session_id, "hdrs": context.request_headers})


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]), host="127.0.0.1")
