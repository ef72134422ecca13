"""Drives `strands-runtime chat` through a pseudo-terminal, as a person at a terminal would:
a tool turn, a turn cancelled with Ctrl-C while the model stalls, the previous line recalled
with the up arrow and erased, a last turn in the same session, then Ctrl-D.

Usage: python3 drive.py BINARY URL   (exit 0 when every check holds; the transcript on failure)
"""

import os
import pty
import select
import sys
import time

binary, url = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execve(binary, [binary, "chat", "--url", url], {"PATH": "/usr/bin:/bin", "TERM": "xterm"})

transcript = b""
pending = b""


def read_until(token: bytes, timeout: float = 30.0) -> bytes:
    global pending, transcript
    deadline = time.time() + timeout
    while token not in pending:
        if time.time() > deadline:
            fail(f"timed out waiting for {token!r}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                fail(f"the chat ended while waiting for {token!r}")
            pending += data
            transcript += data
    cut = pending.index(token) + len(token)
    seen, pending = pending[:cut], pending[cut:]
    return seen


def fail(why: str) -> None:
    sys.stderr.write(f"chat drive: {why}\ntranscript:\n{transcript.decode(errors='replace')}\n")
    sys.exit(1)


def check(condition: bool, why: str) -> None:
    if not condition:
        fail(why)


read_until(b"> ")
os.write(fd, b"What is 2 + 3?\r")
turn = read_until(b"> ")
check(b"[tool calculator" in turn and b'"expression"' in turn, "the tool call was not shown")
check(b": success]" in turn, "the tool's end was not shown")
check(b"2 + 3 = 5" in turn, "the answer was not shown")

os.write(fd, b"Think hard\r")
read_until(b"Let me think")
time.sleep(0.3)
os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT during the turn
turn = read_until(b"> ")
check(b"[turn cancelled]" in turn, "Ctrl-C did not cancel the turn")

os.write(fd, b"\x1b[A")  # up arrow: the previous line again
read_until(b"Think hard")
os.write(fd, b"\x15")  # Ctrl-U: erase it
os.write(fd, b"Are you back?\r")
turn = read_until(b"> ")
check(b"Back, still here." in turn, "the turn after the cancelled one was not answered")

os.write(fd, b"\x04")  # Ctrl-D at an empty prompt ends the chat
_, status = os.waitpid(pid, 0)
check(os.waitstatus_to_exitcode(status) == 0, f"exit status {os.waitstatus_to_exitcode(status)}")
print("chat drive: ok")
