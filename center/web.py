"""What the center's and the authority's web applications share about their framework.

FastAPI (0.165 and later) instruments every request with OpenTelemetry when its API is
installed: spans, metrics and error logs, and on each request a look at the environment and at
the global providers. The center exports none of it: its decisions go to its own audit log and
its operational lines to its logger, and nothing about a request leaves the machine unless an
operator decides so. Off, it costs nothing per request.
"""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
