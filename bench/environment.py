"""The processes a benchmark run starts, and the environment each one gets.

Two kinds of Django process share each benchmark database:

- **production** (``DEBUG`` off, ``bench.settings``): gunicorn, the seeder and the probe. Every required
  variable is set to a throwaway value made for this run (a fresh ``SECRET_KEY`` and Fernet key), static
  files come from a ``collectstatic`` into a temporary ``STATIC_ROOT``, and the load generator says
  ``X-Forwarded-Proto: https`` as the TLS-terminating proxy would (README "Deploying").
- **development** (``DEBUG`` on): the Salesforce emulator, which refuses to run otherwise, and the flow
  measurements that talk to it over plain HTTP on loopback.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: Loopback ports given to the benchmark (the portal under load, and the emulator).
PORTAL_PORT = 8015
EMULATOR_PORT = 8017
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Run:
    """What every process of one benchmark run shares."""

    server_url: str  # postgres://user@host:port (no database name)
    static_root: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    fernet_key: str = field(default_factory=lambda: Fernet.generate_key().decode())

    def database_url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.server_url)._replace(path=f"/{name}"))

    def production_env(self, database: str, **extra: str) -> dict[str, str]:
        """A complete production environment (``DEBUG`` off) for the portal on ``database``."""
        return {
            **_base_env(),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "False",
            "SECRET_KEY": self.secret_key,
            "SITE_URL": f"https://{HOST}:{PORTAL_PORT}",
            # The probe's test client says "testserver".
            "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
            "DATABASE_URL": self.database_url(database),
            "TOKEN_ENCRYPTION_KEYS": self.fernet_key,
            "SALESFORCE_CLIENT_ID": "3MVG9benchmarkConsumerKey",
            "SALESFORCE_CLIENT_SECRET": secrets.token_hex(32),
            "SALESFORCE_EMULATOR": "False",
            "STATIC_ROOT": str(self.static_root),
            "LOG_LEVEL": "WARNING",
            **extra,
        }

    def development_env(self, database: str) -> dict[str, str]:
        """``DEBUG`` on, with the emulator, on ``database``; the emulator is served on ``EMULATOR_PORT``."""
        return {
            **_base_env(),
            "DJANGO_SETTINGS_MODULE": "vcc_portal.settings",
            "DEBUG": "True",
            "SECRET_KEY": self.secret_key,
            "SITE_URL": f"http://{HOST}:{PORTAL_PORT}",
            "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
            "DATABASE_URL": self.database_url(database),
            "TOKEN_ENCRYPTION_KEYS": self.fernet_key,
            "SALESFORCE_EMULATOR": "True",
            "SALESFORCE_EMULATOR_URL": f"http://localhost:{EMULATOR_PORT}/_emulator/salesforce",
            "LOG_LEVEL": "WARNING",
        }


def _base_env() -> dict[str, str]:
    """The parent's PATH and HOME only: a developer's shell (or ``.env``) must not change what is measured."""
    return {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}


def run_python(args: list[str], env: dict[str, str]) -> None:
    """Run ``python ARGS`` in the project root with exactly ``env``; raise with its output if it fails."""
    result = subprocess.run(  # noqa: S603  (this interpreter, the project's own modules)
        [PYTHON, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def database_recreate(run: Run, name: str) -> None:
    """Drop and create an empty database (only ``vcc_bench_*`` names: never someone else's)."""
    if not name.startswith("vcc_bench_"):
        raise ValueError(f"Refusing to recreate {name!r}: benchmark databases are named vcc_bench_*.")
    with psycopg.connect(run.database_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_migrate(run: Run, name: str) -> None:
    """Create every table, the emulator's included (the flow measurements share the database with it)."""
    run_python(["manage.py", "migrate", "--noinput", "-v0"], run.development_env(name))


def collectstatic(run: Run) -> None:
    """Build the production static files (hashed names, compressed) into the run's STATIC_ROOT."""
    run_python(["manage.py", "collectstatic", "--noinput", "-v0"], run.production_env("vcc_bench_unused"))


def postgres_available(run: Run) -> str:
    """Return the server's version, or raise with what to do when it cannot be reached."""
    try:
        with psycopg.connect(run.database_url("postgres"), connect_timeout=5) as connection:
            return str(connection.execute("SHOW server_version").fetchone()[0])
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable at {run.server_url} ({error}).\n"
            "Start it (e.g. pg_ctlcluster 15 main start) or set BENCH_DATABASE_URL=postgres://user@host:port."
        ) from None
