"""The authorization server's hot endpoints at 16 connections, over plain HTTP on loopback:

- ``POST /oauth/token`` with ``grant_type=client_credentials`` (durable: each token is a row in
  SQLite, committed before the answer);
- ``POST /oauth/introspect`` of a live access token;
- Bearer-protected GETs with an OAuth access token: ``/account`` (the lean authenticated path) and
  ``/apps`` (which lists through the ORM).

Targets (issue 4, these 2-core machines): token >= 2000/s, introspection >= 3500/s, protected
GET >= 3500/s.

    make bench-oauth   # or: .venv/bin/python -m bench.oauth [--seconds 10] [--workers 2]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.support.server import API_HEADERS

from bench.harness import bench_options, bench_server, register_client
from bench.wrk import wrk

LUA_POST = """
wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "{authorization}"
"""


def main() -> None:
    """Start a server, register a client, measure the three endpoints, print figures."""
    options = bench_options(__doc__.splitlines()[0])
    with bench_server(options.workers) as (server, key), tempfile.TemporaryDirectory() as tmp:
        client = register_client(server, key)
        basic, token = client.basic, client.access_token
        scripts = Path(tmp) / "lua"
        scripts.mkdir()
        (scripts / "token.lua").write_text(
            LUA_POST.format(body="grant_type=client_credentials", authorization=basic)
        )
        (scripts / "introspect.lua").write_text(
            LUA_POST.format(body=f"token={token}", authorization=basic)
        )
        figures = {
            "POST /oauth/token (client_credentials)": wrk(
                f"{server.url}/oauth/token",
                options.seconds,
                options.connections,
                {},
                script=scripts / "token.lua",
            ),
            "POST /oauth/introspect": wrk(
                f"{server.url}/oauth/introspect",
                options.seconds,
                options.connections,
                {},
                script=scripts / "introspect.lua",
            ),
            "GET /account (OAuth Bearer)": wrk(
                f"{server.url}/account",
                options.seconds,
                options.connections,
                {**API_HEADERS, "Authorization": f"Bearer {token}"},
            ),
            "GET /apps (OAuth Bearer, ORM listing)": wrk(
                f"{server.url}/apps",
                options.seconds,
                options.connections,
                {**API_HEADERS, "Authorization": f"Bearer {token}"},
            ),
        }
    print(f"workers={options.workers} connections={options.connections} seconds={options.seconds}")
    for name, result in figures.items():
        rps, p50, p99 = result["rps"], result["p50"], result["p99"]
        print(f"{name:40} {rps:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main()
