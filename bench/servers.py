"""gunicorn processes for the benchmark, and logging in to them through the real login form."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.environment import HOST, PROJECT_ROOT

#: Two sync workers: one per core of the 2-core machine the targets were set on. The pages are CPU-bound
#: (PostgreSQL answers on loopback in well under a millisecond), so more workers would only take turns on
#: the same cores, and the load generator and PostgreSQL need CPU too.
WORKERS = 2
#: What the TLS-terminating proxy in front of the portal adds (README "Deploying").
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    def workers(self) -> list[Path]:
        """The ``/proc`` directories of the master's children (Linux)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
            if parent == self.pid:
                found.append(stat.parent)
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far.

        It moves far less than latency when other processes compete for the CPU, so it is the figure to
        compare runs on a busy machine with.
        """
        ticks = 0
        for worker in self.workers():
            fields = (worker / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_memory_mb(self) -> float:
        """The largest resident set any worker has had (``VmHWM``), in MiB."""
        peaks = [0]
        for worker in self.workers():
            for line in (worker / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        return max(peaks) / 1024


@contextmanager
def gunicorn(env: dict[str, str], *, port: int, log: Path, workers: int = WORKERS) -> Iterator[Server]:
    """Serve ``vcc_portal.wsgi`` on loopback with ``env``; yield it, stop it on exit."""
    command = [
        str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"),
        "vcc_portal.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    with log.open("a") as output:
        process = subprocess.Popen(  # noqa: S603  (the project's own gunicorn)
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_until_ready(process, base_url, log)
        yield Server(base_url=base_url, pid=process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen, base_url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base_url}/login/", headers=PROXY_HEADERS, timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base_url} within {timeout:.0f} s; see {log}")


def log_in(base_url: str, username: str, password: str) -> dict[str, str]:
    """Log in through the login form, as a browser would; return the cookies to send afterwards."""
    login_url = f"{base_url}/login/"
    form = requests.get(login_url, headers=PROXY_HEADERS, timeout=10)
    form.raise_for_status()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    if match is None:
        raise RuntimeError("The login page has no CSRF token field.")
    cookies = requests.utils.dict_from_cookiejar(form.cookies)
    answer = requests.post(
        login_url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)},
        headers={
            **PROXY_HEADERS,
            "Cookie": cookie_header(cookies),
            # Django checks the Referer of HTTPS form posts (CSRF); the proxy would pass the browser's.
            "Referer": login_url.replace("http://", "https://", 1),
        },
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"Logging in as {username} answered {answer.status_code}, not a redirect.")
    return {**cookies, **requests.utils.dict_from_cookiejar(answer.cookies)}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
