"""What the benchmark measures: every endpoint, who calls it, and the target it is held to (issue 10).

To measure a new endpoint, add one ``Endpoint``; its path is formatted with the seeded ``Fixture``'s
fields. An endpoint whose path does not resolve yet (its issue has not landed) is listed as not available.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN, SUPPORT, SERVICE = "admin", "support", "service"


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    #: Who calls it: a logged-in admin or support user (session cookie), or a service (API key).
    caller: str
    path: str
    method: str = "GET"
    #: Throughput as a share of the baseline's, at least.
    min_ratio: float | None = None
    #: p95 latency for one user at the largest size, at most (milliseconds): measured again with one
    #: connection per worker, so that it is the page's time and not the queue's.
    max_p95_ms: float | None = None
    #: SQL queries per request, at most, and the same at every size.
    max_queries: int | None = None
    #: p95 for one user at the largest size at most this multiple of that at the smallest.
    max_growth: float | None = None
    #: App CPU time per request at the largest size at most this multiple of that at the smallest.
    max_cpu_growth: float | None = None
    #: For a download: how much the workers' peak memory may grow while serving it at the largest size.
    max_memory_growth_mb: float | None = None
    #: The API key scope a service caller needs.
    scope: str = ""
    #: A file to download once (timed, with the workers' peak memory) rather than a page to load with wrk.
    download: bool = False


BASELINE = Endpoint("baseline", "Baseline: bare logged-in Django view", ADMIN, "/_bench/baseline/")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "crm_admin", "CRM Admin page (admin)", ADMIN, "/accounts/{admin_slug}/crm-admin/", min_ratio=0.6, max_queries=5
    ),
    Endpoint(
        "crm_admin_support", "CRM Admin page (support)", SUPPORT, "/accounts/{admin_slug}/crm-admin/", max_queries=5
    ),
    Endpoint("home_admin", "Home (admin)", ADMIN, "/"),
    # "The same cost as at 1,000": its queries and CPU time (its latency is too small to compare).
    Endpoint("home_support", "Home (support)", SUPPORT, "/", max_queries=5, max_cpu_growth=1.5),
    Endpoint(
        "console_first",
        "Support console: first page",
        SUPPORT,
        "/support/links/",
        max_p95_ms=50,
        max_growth=1.5,
    ),
    Endpoint(
        "console_search",
        "Support console: search",
        SUPPORT,
        "/support/links/?q={search_text}",
        max_p95_ms=50,
        max_growth=1.5,
    ),
    Endpoint(
        "console_last",
        "Support console: last page",
        SUPPORT,
        "/support/links/?cursor=last",
        max_p95_ms=50,
        max_growth=1.5,
    ),
    Endpoint(
        "console_csv",
        "Support console: CSV export",
        SUPPORT,
        "/support/links/export.csv",
        download=True,
        max_memory_growth_mb=16,
    ),
    # VCC's other services call the status API with a service key.
    Endpoint(
        "api_status",
        "Status API: one account",
        SERVICE,
        "/api/v1/accounts/{linked_slug}/salesforce-link",
        min_ratio=0.8,
        max_queries=5,
        scope="read",
    ),
    Endpoint("api_list", "Status API: list", SERVICE, "/api/v1/salesforce-links", max_queries=5, scope="read"),
    Endpoint(
        "access_token",
        "Access-token endpoint (cache hit)",
        SERVICE,
        "/api/v1/accounts/{linked_slug}/salesforce-link/access-token",
        method="POST",
        min_ratio=0.8,
        max_queries=5,
        scope="token",
    ),
    Endpoint(
        "attempt_status",
        "Popup's attempt-status poll",
        ADMIN,
        "/accounts/{admin_slug}/crm-admin/salesforce/attempts/status/?ref={attempt_ref}",
        max_queries=5,
    ),
)

#: Measured once per connection setting, to compare them (README "Running at scale").
CONNECTION_ENDPOINTS = ("crm_admin", "api_status")


def by_key(key: str) -> Endpoint:
    return next(endpoint for endpoint in (BASELINE, *ENDPOINTS) if endpoint.key == key)
