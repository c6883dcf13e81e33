"""Real task workers and schedulers for integration tests: ``manage.py`` subprocesses on the test database.

The test enqueues into the database queue (or lets a scheduler process do it); the subprocesses reach the
emulator on the live server over HTTP, exactly as ``make run`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
REDIS_BACKEND = "django_tasks_rq.RQBackend"
#: Generous for a loaded 2-core machine; every wait below polls and returns as soon as it can.
WAIT_SECONDS = 90


def database_url() -> str:
    """The test database, as DATABASE_URL, for a subprocess."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(settings: Any, emulator: Any, **extra: str) -> dict[str, str]:
    """The environment of a worker or scheduler: development settings pointed at the live emulator."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "vcc_portal.settings",
        "DEBUG": "True",
        "DATABASE_URL": database_url(),
        "SITE_URL": settings.SITE_URL,
        "SALESFORCE_EMULATOR": "True",
        "SALESFORCE_EMULATOR_URL": emulator.base_url,
        "SALESFORCE_PRODUCTION_LOGIN_URL": settings.SALESFORCE_PRODUCTION_LOGIN_URL,
        "SALESFORCE_SANDBOX_LOGIN_URL": settings.SALESFORCE_SANDBOX_LOGIN_URL,
        "TASKS_BACKEND": DATABASE_BACKEND,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one management command to completion."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )


class Process:
    """A long-running management command, stopped (SIGTERM, then SIGKILL) when the test ends."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_for_line(self, text: str) -> None:
        """Read output until a line contains ``text`` (the process is up)."""
        deadline = time.monotonic() + WAIT_SECONDS
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            if text in line:
                return
            assert time.monotonic() < deadline, f"no {text!r} from {self.popen.args}"
        raise AssertionError(f"{self.popen.args} exited before printing {text!r}")

    def stop(self) -> str:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.stdout.read() if self.popen.stdout else ""


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; all stopped at its end."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def start_worker(processes: list[Process], env: dict[str, str]) -> Process:
    """Start a database-queue worker polling every 0.1 s and wait until it polls."""
    worker = Process(env, "run_worker", "--no-reload", "--interval", "0.1")
    processes.append(worker)
    worker.wait_for_line("Starting worker")
    return worker


def wait_until(predicate, *, what: str, timeout: float = WAIT_SECONDS, every: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def wait_for_tasks(result_ids: list[str]) -> list[Any]:
    """Wait until the database queue has run these tasks; return their results in order."""
    from django_tasks_db.models import DBTaskResult

    def finished():
        rows = {str(row.id): row for row in DBTaskResult.objects.filter(id__in=result_ids)}
        if all(rows[i].status in ("SUCCESSFUL", "FAILED") for i in result_ids):
            return [rows[i] for i in result_ids]
        return None

    return wait_until(finished, what=f"tasks {result_ids}")
