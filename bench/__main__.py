"""``make bench``: the portal against a bare Django view, at 1,000 and 100,000 accounts, on PostgreSQL.

For each size: recreate and seed ``vcc_bench_<size>``; serve the portal with gunicorn under production
settings (``bench.settings``); log in through the login form as an admin and as support; count each
endpoint's SQL queries and bytes (``bench.probe``); load the baseline, every endpoint and the baseline
again with wrk; then, at the first size, compare the database connection settings; then measure the link
callback and ``check_links`` against the emulator (``bench.flow``). Writes ``bench/results/<time>.md``,
``.png`` and ``.json`` and prints the Markdown.

Options: ``--sizes 1000,100000``, ``--seconds 10``, ``--warmup 2``; ``BENCH_DATABASE_URL`` names the
PostgreSQL server (default ``postgres://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import load, report
from bench.endpoints import ADMIN, BASELINE, CONNECTION_ENDPOINTS, ENDPOINTS, SERVICE, SUPPORT, Endpoint, by_key
from bench.environment import (
    EMULATOR_PORT,
    PORTAL_PORT,
    PROJECT_ROOT,
    Run,
    collectstatic,
    database_migrate,
    database_recreate,
    postgres_available,
    run_python,
)
from bench.servers import PROXY_HEADERS, WORKERS, Server, cookie_header, gunicorn, log_in

RESULTS = PROJECT_ROOT / "bench" / "results"
#: The production default (``vcc_portal.settings``) and the alternatives it was chosen over.
DEFAULT_CONNECTIONS = "CONN_MAX_AGE=60 with health checks (the production default)"
CONNECTION_SETTINGS: dict[str, dict[str, str]] = {
    "a new connection per request (CONN_MAX_AGE=0)": {"CONN_MAX_AGE": "0"},
    DEFAULT_CONNECTIONS: {},
    "CONN_MAX_AGE=60 without health checks": {"CONN_HEALTH_CHECKS": "False"},
    "psycopg pool (DATABASE_POOL=True)": {"DATABASE_POOL": "True"},
}
#: A shared cache turns on cached sessions (one query less per request); measured when Redis answers.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SHARED_CACHE = "CONN_MAX_AGE=60 and a Redis cache (sessions read through it)"


class Bench:
    def __init__(self, run: Run, workdir: Path, *, seconds: float, warmup: float) -> None:
        self.run = run
        self.workdir = workdir
        self.seconds = seconds
        self.warmup = warmup
        self.log = workdir / "servers.log"

    def size(self, size: int, *, compare_connections: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
        database = f"vcc_bench_{size}"
        print(f"== {size:,} accounts: seeding {database}", flush=True)
        database_recreate(self.run, database)
        began = time.perf_counter()
        database_migrate(self.run, database)
        migrate_seconds = time.perf_counter() - began
        fixture_path = self.workdir / f"fixture-{size}.json"
        run_python(
            ["-m", "bench.seed", "--accounts", str(size), "--out", str(fixture_path)],
            self.run.production_env(database),
        )
        fixture = json.loads(fixture_path.read_text())
        print(f"   seeded in {fixture['seconds']['total']:.1f} s (migrate {migrate_seconds:.1f} s)", flush=True)
        with gunicorn(self.run.production_env(database), port=PORTAL_PORT, log=self.log) as server:
            credentials = {
                ADMIN: log_in(server.base_url, fixture["admin_username"], fixture["password"]),
                SUPPORT: log_in(server.base_url, fixture["support_username"], fixture["password"]),
            }
            probes = self.probe(database, fixture, credentials)
            endpoints = self.endpoints(server, fixture, credentials, probes)
        connections = self.connections(database, fixture, credentials, probes) if compare_connections else None
        return {
            "migrate_seconds": migrate_seconds,
            "seed": {"seconds": fixture["seconds"], "rows": fixture["rows"]},
            "endpoints": endpoints,
            "flow": self.flow(database),
        }, connections

    def probe(self, database: str, fixture: dict[str, Any], credentials: dict[str, dict[str, str]]) -> dict[str, Any]:
        source, target = self.workdir / "probe-in.json", self.workdir / "probe-out.json"
        keys = [endpoint.key for endpoint in (BASELINE, *ENDPOINTS)]
        source.write_text(
            json.dumps({"fixture": fixture, "cookies": credentials, "keys": fixture.get("keys", {}), "endpoints": keys})
        )
        run_python(["-m", "bench.probe", str(source), str(target)], self.run.production_env(database))
        return json.loads(target.read_text())

    def endpoints(
        self, server: Server, fixture: dict[str, Any], credentials: dict[str, dict[str, str]], probes: dict[str, Any]
    ) -> dict[str, Any]:
        """Load the baseline first and last, and every available endpoint in between."""
        results: dict[str, Any] = {}
        baseline_runs = [self.measure(server, BASELINE, fixture, credentials)]
        for endpoint in ENDPOINTS:
            probe = probes[endpoint.key]
            if not probe["available"]:
                print(f"   {endpoint.label}: not available ({probe['reason']})", flush=True)
                results[endpoint.key] = probe
                continue
            results[endpoint.key] = {**probe, "load": self.measure(server, endpoint, fixture, credentials)}
        baseline_runs.append(self.measure(server, BASELINE, fixture, credentials))
        baseline = _mean(baseline_runs)
        results[BASELINE.key] = {**probes[BASELINE.key], "load": baseline, "runs": baseline_runs}
        for result in results.values():
            if result["available"]:
                result["ratio"] = result["load"]["per_second"] / baseline["per_second"]
        return results

    def measure(
        self, server: Server, endpoint: Endpoint, fixture: dict[str, Any], credentials: dict[str, dict[str, str]]
    ) -> dict[str, float]:
        headers = dict(PROXY_HEADERS)
        if endpoint.caller == SERVICE:
            headers["Authorization"] = f"Bearer {fixture['keys'][endpoint.scope]}"
        else:
            headers["Cookie"] = cookie_header(credentials[endpoint.caller])
        url = server.base_url + endpoint.path.format(**fixture)
        load.run(url, method=endpoint.method, headers=headers, seconds=self.warmup, workdir=self.workdir)
        cpu = server.cpu_seconds()
        measured = load.run(url, method=endpoint.method, headers=headers, seconds=self.seconds, workdir=self.workdir)
        cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(measured.requests, 1)
        print(
            f"   {endpoint.label}: {measured.per_second:,.0f} req/s, p50 {measured.p50_ms:.1f} ms, "
            f"p95 {measured.p95_ms:.1f} ms, {cpu_ms:.2f} CPU ms"
            + (f", {measured.errors} errors" if measured.errors else ""),
            flush=True,
        )
        return {**asdict(measured), "per_second": measured.per_second, "cpu_ms": cpu_ms}

    def connections(
        self, database: str, fixture: dict[str, Any], credentials: dict[str, dict[str, str]], probes: dict[str, Any]
    ) -> dict[str, Any]:
        """The baseline and a few endpoints under each database connection setting, same data."""
        variants: dict[str, Any] = {}
        settings = dict(CONNECTION_SETTINGS)
        if _redis_answers(REDIS_URL):
            settings[SHARED_CACHE] = {"CACHE_URL": REDIS_URL}
        else:
            print(f"   connections: no Redis at {REDIS_URL}, so no shared-cache sessions", flush=True)
        for label, extra in settings.items():
            print(f"   connections: {label}", flush=True)
            with gunicorn(self.run.production_env(database, **extra), port=PORTAL_PORT, log=self.log) as server:
                measured: dict[str, Any] = {BASELINE.key: self.measure(server, BASELINE, fixture, credentials)}
                for key in CONNECTION_ENDPOINTS:
                    available = probes[key]["available"]
                    measured[key] = self.measure(server, by_key(key), fixture, credentials) if available else None
            variants[label] = measured
        return variants

    def flow(self, database: str) -> dict[str, Any]:
        """The callback and check_links against the emulator, served by its own DEBUG process."""
        print("   link callbacks and check_links against the emulator", flush=True)
        target = self.workdir / f"flow-{database}.json"
        env = self.run.development_env(database)
        with gunicorn(env, port=EMULATOR_PORT, log=self.log):
            run_python(["-m", "bench.flow", str(target)], env)
        return json.loads(target.read_text())


def _redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _mean(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(run[key] for run in runs) / len(runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the portal against a bare Django view.")
    parser.add_argument("--sizes", default="1000,100000", help="comma list of account counts")
    parser.add_argument("--seconds", type=float, default=10, help="load per endpoint")
    parser.add_argument("--warmup", type=float, default=2, help="load before each measurement, not counted")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    load.wrk_path()
    started = datetime.now(UTC)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vcc-bench-") as scratch:
        workdir = Path(scratch)
        run = Run(
            server_url=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
            static_root=workdir / "static",
        )
        results: dict[str, Any] = {
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": {
                "cpus": os.cpu_count(),
                "load_average": f"{os.getloadavg()[0]:.1f}",
                "postgres": postgres_available(run),
            },
            "load": {
                "workers": WORKERS,
                "threads": load.THREADS,
                "connections": load.CONNECTIONS,
                "seconds": args.seconds,
                "warmup_seconds": args.warmup,
            },
            "connection_setting": DEFAULT_CONNECTIONS,
            "sizes": {},
        }
        collectstatic(run)
        bench = Bench(run, workdir, seconds=args.seconds, warmup=args.warmup)
        for position, size in enumerate(sizes):
            data, connections = bench.size(size, compare_connections=position == 0)
            results["sizes"][str(size)] = data
            if connections is not None:
                results["connections"] = {"size": size, "variants": connections}
    stem = RESULTS / started.strftime("bench-%Y%m%d-%H%M%S")
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2))
    table = report.markdown(results)
    stem.with_suffix(".md").write_text(table)
    report.chart(results, stem.with_suffix(".png"))
    print(table)
    print(f"Written: {stem}.md, {stem}.png, {stem}.json")


if __name__ == "__main__":
    main()
