"""Access to the Python incumbent's benchmark kit (shared/bench/python-baseline), used in place:
its harness (pinning, nice, wrk wrapper, neighbour-CPU monitor, speed index), its load scripts and
its measurement functions. Nothing of it is copied here. Its results/ folder is never written: the
harness's RESULTS is pointed at a folder of ours before any of its code saves.

Run a baseline script with the results redirected:
    python baseline.py OUT_DIR [--no-quiet-wait] SCRIPT [ARGS...]
e.g. python baseline.py /tmp/out bench_inproc.py 1 0.5
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = Path(os.environ.get("PY_BASELINE", HERE.parent.parent / "shared" / "bench" / "python-baseline")).resolve()

if not (BASELINE / "harness.py").is_file():
    sys.exit(f"the Python baseline is not at {BASELINE} (set PY_BASELINE)")
sys.path.insert(0, str(BASELINE))

import harness  # noqa: E402  (the baseline's own module)


def redirect_results(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    harness.RESULTS = out_dir


def import_script(name: str):
    """Import a baseline script as a module without letting it read our command line."""
    saved = sys.argv
    sys.argv = [name]
    try:
        return __import__(name)
    finally:
        sys.argv = saved


def no_quiet_wait() -> None:
    """Skip the harness's waiting for a quiet box (quick runs; the neighbour share is still recorded)."""
    harness.wait_for_quiet = lambda *args, **kwargs: 0.0


def main() -> None:
    args = sys.argv[1:]
    out = Path(args.pop(0))
    if args and args[0] == "--no-quiet-wait":
        args.pop(0)
        no_quiet_wait()
    script = args.pop(0)
    redirect_results(out)
    os.chdir(BASELINE)
    sys.argv = [str(BASELINE / script), *args]
    runpy.run_path(str(BASELINE / script), run_name="__main__")


if __name__ == "__main__":
    main()
