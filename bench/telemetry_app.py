"""The baseline's app.py with Strands' telemetry exported over OTLP, set up the documented way
(StrandsTelemetry: batch span processor and OTLP/HTTP span exporter, periodic metric reader with
the OTLP/HTTP metric exporter; the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT). Used by
bench/telemetry_bench.py for Python's "telemetry on" cell."""

import os
import runpy
import sys
from pathlib import Path

from strands.telemetry import StrandsTelemetry

StrandsTelemetry().setup_otlp_exporter().setup_meter(enable_otlp_exporter=True)

baseline = Path(os.environ.get("PY_BASELINE", Path(__file__).resolve().parents[2] / "shared/bench/python-baseline"))
sys.path.insert(0, str(baseline))
os.chdir(baseline)
runpy.run_path(str(baseline / "app.py"), run_name="__main__")
