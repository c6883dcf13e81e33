"""The benchmark's Markdown table and PNG chart, from the results a run collected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.endpoints import BASELINE, ENDPOINTS, Endpoint, by_key


def markdown(results: dict[str, Any]) -> str:
    """Render every table of a run: endpoints per size, targets, connection settings, flows, seeding."""
    sizes = list(results["sizes"])
    machine, load = results["machine"], results["load"]
    lines = [
        f"# Benchmark, {results['started']}",
        "",
        f"{machine['cpus']} CPUs (load average {machine['load_average']} at the start), PostgreSQL "
        f"{machine['postgres']}, gunicorn {load['workers']} sync workers under production settings "
        f"({results['connection_setting']}), wrk {load['threads']} threads x {load['connections']} connections, "
        f"{load['seconds']} s per endpoint after {load['warmup_seconds']} s of warm-up. Ratio: requests per "
        "second as a share of the baseline's on the same server in the same run. Queries and bytes: one "
        "request (the third) through Django's test client on the same database. App CPU: user + system time "
        "of the gunicorn workers per request, which a busy machine disturbs far less than latency.",
        "",
    ]
    for size in sizes:
        lines += _size_table(size, results["sizes"][size])
    lines += _targets(results)
    lines += _connections(results)
    lines += _flows(results)
    lines += _seeding(results)
    return "\n".join(lines) + "\n"


def _number(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _size_table(size: str, data: dict[str, Any]) -> list[str]:
    lines = [
        f"## {int(size):,} accounts",
        "",
        "| Endpoint | Status | p50 ms | p95 ms | req/s | x baseline | App CPU ms | Queries | Bytes |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    one_user = []
    for endpoint in (BASELINE, *ENDPOINTS):
        result = data["endpoints"][endpoint.key]
        if not result["available"]:
            lines.append(f"| {endpoint.label} | not available: {result['reason']} | | | | | | | |")
            continue
        if "download" in result:
            got = result["download"]
            lines.append(
                f"| {endpoint.label} | {result['status']}, one download: {got['seconds']:.2f} s, workers' peak "
                f"memory {got['peak_memory_mb_before']:.0f} → {got['peak_memory_mb_after']:.0f} MiB | | | | | "
                f"{got['cpu_ms']:,.0f} | {result['queries']} | {got['bytes']:,} |"
            )
            continue
        measured = result["load"]
        errors = f" ({measured['errors']} errors)" if measured["errors"] else ""
        lines.append(
            f"| {endpoint.label} | {result['status']}{errors} | {_number(measured['p50_ms'])} | "
            f"{_number(measured['p95_ms'])} | {_number(measured['per_second'], 0)} | {result['ratio']:.2f} | "
            f"{measured['cpu_ms']:.2f} | {result['queries']} | {result['bytes']:,} |"
        )
        if "unloaded" in result:
            alone = result["unloaded"]
            one_user.append(f"| {endpoint.label} | {_number(alone['p50_ms'])} | {_number(alone['p95_ms'])} |")
    if one_user:
        lines += [
            "",
            "For one user (wrk with one connection per worker, so no request waits for another):",
            "",
            "| Endpoint | p50 ms | p95 ms |",
            "|---|--:|--:|",
            *one_user,
        ]
    return [*lines, ""]


def _targets(results: dict[str, Any]) -> list[str]:
    """Each endpoint's targets from ``bench.endpoints``, checked at every size."""
    sizes = list(results["sizes"])
    smallest, largest = results["sizes"][sizes[0]]["endpoints"], results["sizes"][sizes[-1]]["endpoints"]
    rows = []
    for endpoint in ENDPOINTS:
        if not largest[endpoint.key]["available"]:
            if _has_target(endpoint):
                rows.append(f"| {endpoint.label} | targets | not available | |")
            continue
        at = {size: results["sizes"][size]["endpoints"][endpoint.key] for size in sizes}
        if endpoint.min_ratio is not None:
            ratios = [at[size]["ratio"] for size in sizes]
            met = min(ratios) >= endpoint.min_ratio
            rows.append(_target_row(endpoint, f"≥ {endpoint.min_ratio:.2f} x baseline", ratios, met, "{:.2f}"))
        if endpoint.max_queries is not None:
            queries = [at[size]["queries"] for size in sizes]
            met = max(queries) <= endpoint.max_queries and len(set(queries)) == 1
            target = f"≤ {endpoint.max_queries} queries, same at every size"
            rows.append(_target_row(endpoint, target, queries, met, "{}"))
        if endpoint.max_p95_ms is not None:
            p95 = largest[endpoint.key]["unloaded"]["p95_ms"]
            target = f"p95 < {endpoint.max_p95_ms:g} ms for one user at {int(sizes[-1]):,}"
            rows.append(f"| {endpoint.label} | {target} | {p95:.1f} ms | {_mark(p95 < endpoint.max_p95_ms)} |")
        if endpoint.max_growth is not None and len(sizes) > 1:
            growth = largest[endpoint.key]["unloaded"]["p95_ms"] / smallest[endpoint.key]["unloaded"]["p95_ms"]
            target = f"p95 at {int(sizes[-1]):,} ≤ {endpoint.max_growth:g} x at {int(sizes[0]):,}"
            rows.append(f"| {endpoint.label} | {target} | {growth:.2f} x | {_mark(growth <= endpoint.max_growth)} |")
        if endpoint.max_cpu_growth is not None and len(sizes) > 1:
            growth = largest[endpoint.key]["load"]["cpu_ms"] / smallest[endpoint.key]["load"]["cpu_ms"]
            target = f"app CPU at {int(sizes[-1]):,} ≤ {endpoint.max_cpu_growth:g} x at {int(sizes[0]):,}"
            met = growth <= endpoint.max_cpu_growth
            rows.append(f"| {endpoint.label} | {target} | {growth:.2f} x | {_mark(met)} |")
        if endpoint.max_memory_growth_mb is not None:
            got = largest[endpoint.key]["download"]
            growth = got["peak_memory_mb_after"] - got["peak_memory_mb_before"]
            target = f"workers' peak memory + ≤ {endpoint.max_memory_growth_mb:g} MiB for {got['bytes'] / 1e6:.0f} MB"
            met = growth <= endpoint.max_memory_growth_mb
            rows.append(f"| {endpoint.label} | {target} | +{growth:.1f} MiB | {_mark(met)} |")
    return ["## Targets", "", "| Endpoint | Target | Measured | Met |", "|---|---|---|---|", *rows, ""]


def _has_target(endpoint: Endpoint) -> bool:
    targets = (
        endpoint.min_ratio,
        endpoint.max_queries,
        endpoint.max_p95_ms,
        endpoint.max_growth,
        endpoint.max_cpu_growth,
        endpoint.max_memory_growth_mb,
    )
    return any(target is not None for target in targets)


def _target_row(endpoint: Endpoint, target: str, values: list, met: bool, form: str) -> str:
    return f"| {endpoint.label} | {target} | {' / '.join(form.format(value) for value in values)} | {_mark(met)} |"


def _mark(met: bool) -> str:
    return "yes" if met else "**no**"


def _connections(results: dict[str, Any]) -> list[str]:
    comparison = results["connections"]
    lines = [
        f"## Database connections and sessions ({int(comparison['size']):,} accounts, median of "
        f"{results['load']['rounds']} interleaved rounds)",
        "",
        "| Setting | Endpoint | p50 ms | p95 ms | req/s | x baseline | App CPU ms |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for variant, measured in comparison["variants"].items():
        base = measured[BASELINE.key]
        for key, load in measured.items():
            lines.append(
                f"| {variant} | {by_key(key).label} | {_number(load['p50_ms'])} | {_number(load['p95_ms'])} | "
                f"{_number(load['per_second'], 0)} | {load['per_second'] / base['per_second']:.2f} | "
                f"{load['cpu_ms']:.2f} |"
            )
    return [*lines, ""]


def _flows(results: dict[str, Any]) -> list[str]:
    sizes = list(results["sizes"])
    flows = {size: results["sizes"][size]["flow"] for size in sizes}
    header = "| | " + " | ".join(f"{int(size):,} accounts" for size in sizes) + " |"
    lines = ["## Link callback and health checks (against the emulator)", "", header, "|---" * (len(sizes) + 1) + "|"]

    def row(label: str, cell) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(flows[size]) for size in sizes) + " |")

    row("Callbacks measured", lambda flow: str(flow["callback"]["callbacks"]))
    row(
        "Callback, own time p50 / p95 (ms)",
        lambda f: f"{f['callback']['own_p50_ms']:.1f} / {f['callback']['own_p95_ms']:.1f}",
    )
    row("Callback, whole request p50 (ms)", lambda flow: f"{flow['callback']['total_p50_ms']:.1f}")
    row(
        "Callback, waiting for Salesforce p50 (ms, calls)",
        lambda f: f"{f['callback']['salesforce_p50_ms']:.1f} ({f['callback']['salesforce_calls']:g})",
    )
    row("Callback, SQL queries", lambda flow: f"{flow['callback']['queries']:g}")
    row("check_links, links per second", _check_links_cell)
    return [*lines, ""]


def _check_links_cell(flow: dict[str, Any]) -> str:
    checks = flow["check_links"]
    if not checks["available"]:
        return f"not available: {checks['reason']}"
    return f"{checks['links_per_second']:.1f} ({checks['links']} links in {checks['seconds']:.1f} s)"


def _seeding(results: dict[str, Any]) -> list[str]:
    sizes = list(results["sizes"])
    steps = list(results["sizes"][sizes[-1]]["seed"]["seconds"])
    header = "| Seeding step (s) | " + " | ".join(f"{int(size):,} accounts" for size in sizes) + " |"
    lines = ["## Seeding", "", header, "|---" + "|--:" * len(sizes) + "|"]
    for step in ["migrate", *steps]:
        cells = []
        for size in sizes:
            data = results["sizes"][size]
            cells.append(
                f"{data['migrate_seconds']:.1f}" if step == "migrate" else f"{data['seed']['seconds'][step]:.1f}"
            )
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    rows = results["sizes"][sizes[-1]]["seed"]["rows"]
    lines += ["", "Rows at the largest size: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()) + "."]
    return [*lines, ""]


def chart(results: dict[str, Any], path: Path) -> None:
    """Two panels: throughput as a share of the baseline's, and p95 latency, per endpoint and size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    sizes = list(results["sizes"])
    available = [
        endpoint
        for endpoint in ENDPOINTS
        if all("load" in results["sizes"][size]["endpoints"][endpoint.key] for size in sizes)
    ]
    figure, (ratios, latency) = plt.subplots(1, 2, figsize=(15, 0.45 * max(len(available), 4) + 2), sharey=True)
    height = 0.8 / len(sizes)
    for index, size in enumerate(sizes):
        data = results["sizes"][size]["endpoints"]
        positions = [row + index * height for row in range(len(available))]
        label = f"{int(size):,} accounts"
        ratios.barh(positions, [data[e.key]["ratio"] for e in available], height=height, label=label)
        latency.barh(positions, [data[e.key]["load"]["p95_ms"] for e in available], height=height, label=label)
        # The latency targets are for one user: that p95, where measured, is a dot on the same bar.
        alone = [
            (position, data[e.key]["unloaded"]["p95_ms"])
            for position, e in zip(positions, available, strict=True)
            if "unloaded" in data[e.key]
        ]
        if alone:
            latency.scatter(
                [p95 for _, p95 in alone],
                [position for position, _ in alone],
                color="black",
                zorder=3,
                s=18,
                label="one user" if index == 0 else None,
            )
    ticks = [row + 0.4 - height / 2 for row in range(len(available))]
    ratios.set_yticks(ticks, [endpoint.label for endpoint in available])
    ratios.invert_yaxis()
    for share, style in ((0.6, "--"), (0.8, ":")):
        ratios.axvline(share, color="grey", linestyle=style, linewidth=1)
    ratios.axvline(1.0, color="black", linewidth=1)
    ratios.set_xlabel("requests/s as a share of the baseline's (lines: targets 0.6 and 0.8)")
    latency.axvline(50, color="grey", linestyle="--", linewidth=1)
    latency.set_xscale("log")
    latency.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
    latency.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    latency.xaxis.set_minor_formatter(ticker.NullFormatter())
    latency.set_xlabel("p95 latency, ms, 8 connections (dots: one user; log scale; line: the 50 ms target)")
    latency.legend(loc="lower right")
    ratios.legend(loc="lower right")
    figure.suptitle(f"VCC CRM Admin portal against a bare Django view, {results['started']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
