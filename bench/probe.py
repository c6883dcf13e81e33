"""SQL queries and response bytes per request, for each endpoint: ``python -m bench.probe IN.json OUT.json``.

Runs in its own production-settings process (``bench.settings``, ``DEBUG`` off) on the benchmark database,
never inside gunicorn, so counting queries costs the measured servers nothing. Each endpoint is requested
through Django's test client with the same session cookies and proxy header as the load generator, three
times; the third request is the one reported (caches warm, as in a long-running worker).
``CaptureQueriesContext`` records the statements. A path that does not resolve, or a service endpoint
without an API key for its scope, is reported as not available.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django

REPEAT = 3


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """Measure every endpoint named in ``request`` (the fixture, with its API keys, and cookies per caller)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import Resolver404, resolve

    from bench.endpoints import SERVICE, by_key

    fixture, cookies = request["fixture"], request["cookies"]
    keys = fixture["keys"]
    results = {}
    for key in request["endpoints"]:
        endpoint = by_key(key)
        path = endpoint.path.format(**fixture)
        try:
            resolve(urlsplit(path).path)
        except Resolver404:
            results[key] = {"available": False, "reason": "no such URL on this branch yet"}
            continue
        headers = {"x-forwarded-proto": "https"}
        client = Client(raise_request_exception=False)
        if endpoint.caller == SERVICE:
            if endpoint.scope not in keys:
                results[key] = {"available": False, "reason": f"no service API key with scope '{endpoint.scope}'"}
                continue
            headers["authorization"] = f"Bearer {keys[endpoint.scope]}"
        else:
            for name, value in cookies[endpoint.caller].items():
                client.cookies[name] = value
        for _ in range(REPEAT):
            with CaptureQueriesContext(connection) as queries:
                response = client.generic(endpoint.method, path, headers=headers)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                response.close()
        results[key] = {
            "available": True,
            "path": path,
            "status": response.status_code,
            "queries": len(queries.captured_queries),
            "bytes": len(body),
            "sql": [query["sql"] for query in queries.captured_queries],
        }
    return results


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    source, target = (Path(arg) for arg in sys.argv[1:3])
    target.write_text(json.dumps(probe(json.loads(source.read_text())), indent=2))


if __name__ == "__main__":
    main()
