"""Authenticated ``GET /account`` against unauthenticated ``GET /health`` on one server.

Starts a real Ostiary server (plain HTTP on 127.0.0.1, SQLite, ``--workers`` processes), makes an
account, and drives both routes with ``wrk`` (Debian package ``wrk``) at 16 connections, printing
requests per second, latency percentiles and the ratio. Targets (issue 2, these 2-core machines):
``/account`` >= 3500 req/s and a ratio >= 0.5.

    make bench   # or: .venv/bin/python -m bench.api_auth [--seconds 10] [--workers 2]
"""

from __future__ import annotations

from tests.support.server import API_HEADERS

from bench.harness import bench_options, bench_server
from bench.wrk import wrk


def main() -> None:
    """Start the server, measure both routes, print the figures."""
    options = bench_options(__doc__.splitlines()[0])
    with bench_server(options.workers) as (server, key):
        auth = {**API_HEADERS, "Authorization": f"Bearer {key}"}
        wrk(f"{server.url}/account", 2, options.connections, auth)  # warm-up
        health = wrk(f"{server.url}/health", options.seconds, options.connections, {})
        account = wrk(f"{server.url}/account", options.seconds, options.connections, auth)
    print(f"workers={options.workers} connections={options.connections} seconds={options.seconds}")
    for name, figures in (("GET /health", health), ("GET /account (Bearer)", account)):
        print(
            f"{name:24} {figures['rps']:8.0f} req/s   p50 {figures['p50']:6.2f} ms"
            f"   p99 {figures['p99']:6.2f} ms"
        )
    print(f"ratio /account : /health = {account['rps'] / health['rps']:.2f}")


if __name__ == "__main__":
    main()
