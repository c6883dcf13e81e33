"""Drive one endpoint with ``wrk`` and read back its figures.

wrk needs a Lua script for a method, a body and per-run headers (the session cookie, the proxy's
``X-Forwarded-Proto``, an API key); the same script's ``done`` hook prints the summary as JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

THREADS = 2
CONNECTIONS = 8
RESULT_MARKER = "BENCH_RESULT "

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"status_errors": %d, "socket_errors": %d}\\n',
    "{marker}", summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    #: Responses other than 2xx/3xx, and connection errors or timeouts.
    errors: int
    bytes_per_request: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: `make bench` installs it as root (apt-get install wrk).")
    return path


def lua_string(value: str) -> str:
    """A Lua string literal for a header value or body (printable ASCII only: cookies, keys, paths)."""
    if not all(" " <= char <= "~" for char in value):
        raise ValueError("Only printable ASCII goes into the wrk script.")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def script(*, method: str, headers: dict[str, str], body: str = "") -> str:
    lines = [f"wrk.method = {lua_string(method)}", f"wrk.body = {lua_string(body)}"]
    lines += [f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in headers.items()]
    return "\n".join(lines) + _DONE.replace("{marker}", RESULT_MARKER)


def run(
    url: str, *, method: str, headers: dict[str, str], seconds: float, workdir: Path, connections: int = CONNECTIONS
) -> Load:
    """Load ``url`` for ``seconds`` with ``connections`` open connections; return what wrk measured."""
    lua = workdir / "wrk.lua"
    lua.write_text(script(method=method, headers=headers))
    command = [
        wrk_path(),
        f"--threads={min(THREADS, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=30s",
        f"--script={lua}",
        url,
    ]
    finished = subprocess.run(  # noqa: S603  (wrk, with our own script)
        command, capture_output=True, text=True, timeout=seconds + 120, check=True
    )
    output = finished.stdout
    line = next((line for line in output.splitlines() if line.startswith(RESULT_MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    data = json.loads(line.removeprefix(RESULT_MARKER))
    requests = data["requests"]
    return Load(
        requests=requests,
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["status_errors"] + data["socket_errors"],
        bytes_per_request=data["bytes"] / requests if requests else 0.0,
    )
