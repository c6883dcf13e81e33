"""``make bench``: the portal against a bare Django view, at 1,000 and 100,000 accounts, on PostgreSQL.

For each size: recreate and seed ``vcc_bench_<size>``; serve the portal with gunicorn under production
settings (``bench.settings``); log in through the login form as an admin and as support; count each
endpoint's SQL queries and bytes (``bench.probe``); load the baseline, every endpoint and the baseline
again with wrk; then, at the first size, compare the database connection settings; then measure the link
callback and ``check_links`` against the emulator (``bench.flow``). Writes ``bench/results/<time>.md``,
``.png`` and ``.json`` and prints the Markdown.

Options: ``--sizes 1000,100000``, ``--seconds 10``, ``--warmup 2``, ``--rounds 1`` (of the connection
comparison); ``BENCH_DATABASE_URL`` names the PostgreSQL server (default
``postgres://postgres@127.0.0.1:5432``), ``BENCH_REDIS_URL`` a Redis for the shared-cache comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

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
    """One benchmark run: its processes' environment, a scratch directory, and how long to load."""

    def __init__(self, run: Run, workdir: Path, *, seconds: float, warmup: float, rounds: int) -> None:
        self.run = run
        self.workdir = workdir
        self.seconds = seconds
        self.warmup = warmup
        self.rounds = rounds
        self.log = workdir / "servers.log"

    def size(self, size: int, *, compare_connections: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Seed, serve, probe and load one data size; return its results and the connection comparison."""
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
        """Count each endpoint's queries and bytes in a production-settings process of its own."""
        source, target = self.workdir / "probe-in.json", self.workdir / "probe-out.json"
        keys = [endpoint.key for endpoint in (BASELINE, *ENDPOINTS)]
        source.write_text(json.dumps({"fixture": fixture, "cookies": credentials, "endpoints": keys}))
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
            elif endpoint.download:
                results[endpoint.key] = {**probe, "download": self.download(server, endpoint, fixture, credentials)}
            else:
                results[endpoint.key] = {**probe, "load": self.measure(server, endpoint, fixture, credentials)}
                if endpoint.max_p95_ms is not None or endpoint.max_growth is not None:
                    unloaded = self.measure(server, endpoint, fixture, credentials, connections=WORKERS)
                    results[endpoint.key]["unloaded"] = unloaded
        baseline_runs.append(self.measure(server, BASELINE, fixture, credentials))
        baseline = _combine(baseline_runs, statistics.fmean)
        results[BASELINE.key] = {**probes[BASELINE.key], "load": baseline, "runs": baseline_runs}
        for result in results.values():
            if "load" in result:
                result["ratio"] = result["load"]["per_second"] / baseline["per_second"]
        return results

    def measure(
        self,
        server: Server,
        endpoint: Endpoint,
        fixture: dict[str, Any],
        credentials: dict[str, dict[str, str]],
        *,
        connections: int = load.CONNECTIONS,
    ) -> dict[str, float]:
        """Load one endpoint with wrk after a warm-up; add the workers' CPU time per request."""
        url = server.base_url + endpoint.path.format(**fixture)
        headers = _headers(endpoint, fixture, credentials)
        options = {"method": endpoint.method, "headers": headers, "workdir": self.workdir, "connections": connections}
        load.run(url, seconds=self.warmup, **options)
        cpu = server.cpu_seconds()
        measured = load.run(url, seconds=self.seconds, **options)
        cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(measured.requests, 1)
        print(
            f"   {endpoint.label} ({connections} connections): {measured.per_second:,.0f} req/s, "
            f"p50 {measured.p50_ms:.1f} ms, p95 {measured.p95_ms:.1f} ms, {cpu_ms:.2f} CPU ms"
            + (f", {measured.errors} errors" if measured.errors else ""),
            flush=True,
        )
        return {**asdict(measured), "per_second": measured.per_second, "cpu_ms": cpu_ms}

    def download(
        self, server: Server, endpoint: Endpoint, fixture: dict[str, Any], credentials: dict[str, dict[str, str]]
    ) -> dict[str, float]:
        """Fetch a streamed file once, reading it as it comes; time it and watch the workers' peak memory."""
        url = server.base_url + endpoint.path.format(**fixture)
        memory_before, cpu = server.peak_memory_mb(), server.cpu_seconds()
        began = time.perf_counter()
        size = 0
        with requests.request(
            endpoint.method, url, headers=_headers(endpoint, fixture, credentials), stream=True, timeout=600
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
        seconds = time.perf_counter() - began
        result = {
            "seconds": seconds,
            "bytes": size,
            "cpu_ms": (server.cpu_seconds() - cpu) * 1000,
            "peak_memory_mb_before": memory_before,
            "peak_memory_mb_after": server.peak_memory_mb(),
        }
        print(
            f"   {endpoint.label}: {size / 1e6:.1f} MB in {seconds:.2f} s, workers' peak memory "
            f"{memory_before:.0f} → {result['peak_memory_mb_after']:.0f} MiB",
            flush=True,
        )
        return result

    def connections(
        self, database: str, fixture: dict[str, Any], credentials: dict[str, dict[str, str]], probes: dict[str, Any]
    ) -> dict[str, Any]:
        """The baseline and a few endpoints under each connection setting, in ``rounds`` interleaved rounds.

        Each setting gets its own server; a round measures every setting once, so a machine that slows
        down or speeds up during the run does not favour one setting. Every figure is the median of the
        rounds.
        """
        settings = dict(CONNECTION_SETTINGS)
        if _redis_answers(REDIS_URL):
            settings[SHARED_CACHE] = {"CACHE_URL": REDIS_URL}
        else:
            print(f"   connections: no Redis at {REDIS_URL}, so no shared-cache sessions", flush=True)
        keys = [BASELINE.key, *(key for key in CONNECTION_ENDPOINTS if probes[key]["available"])]
        runs: dict[str, dict[str, list[dict[str, float]]]] = {label: {key: [] for key in keys} for label in settings}
        for round_number in range(1, self.rounds + 1):
            for label, extra in settings.items():
                print(f"   connections, round {round_number}: {label}", flush=True)
                with gunicorn(self.run.production_env(database, **extra), port=PORTAL_PORT, log=self.log) as server:
                    for key in keys:
                        runs[label][key].append(self.measure(server, by_key(key), fixture, credentials))
        return {
            label: {key: _combine(measured, statistics.median) for key, measured in by_endpoint.items()}
            for label, by_endpoint in runs.items()
        }

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


def _headers(endpoint: Endpoint, fixture: dict[str, Any], credentials: dict[str, dict[str, str]]) -> dict[str, str]:
    """The proxy's header and the caller's credentials: a session cookie, or a service's API key."""
    if endpoint.caller == SERVICE:
        return {**PROXY_HEADERS, "Authorization": f"Bearer {fixture['keys'][endpoint.scope]}"}
    return {**PROXY_HEADERS, "Cookie": cookie_header(credentials[endpoint.caller])}


def _combine(runs: list[dict[str, float]], how: Callable[[list[float]], float]) -> dict[str, float]:
    return {key: how([run[key] for run in runs]) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the portal against a bare Django view.")
    parser.add_argument("--sizes", default="1000,100000", help="comma list of account counts")
    parser.add_argument("--seconds", type=float, default=10, help="load per endpoint")
    parser.add_argument("--warmup", type=float, default=2, help="load before each measurement, not counted")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the connection comparison")
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
                "rounds": args.rounds,
            },
            "connection_setting": DEFAULT_CONNECTIONS,
            "sizes": {},
        }
        collectstatic(run)
        bench = Bench(run, workdir, seconds=args.seconds, warmup=args.warmup, rounds=args.rounds)
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
