"""Authenticated ``GET /account`` against unauthenticated ``GET /health`` on one server, and
``GET /account`` with usage recording on against it off (``OSTIARY_USAGE_RECORDING=false``).

Starts real Ostiary servers (plain HTTP on 127.0.0.1, SQLite, ``--workers`` processes), makes an
account on each, and drives the routes with ``wrk`` (Debian package ``wrk``) at 16 connections,
printing requests per second, latency percentiles and the ratios. Targets (issue 2, these 2-core
machines): ``/account`` >= 3500 req/s and a ratio >= 0.5; issue 14: ``/account`` with usage
recorded within 5% of it not recorded. The two usage servers run side by side and are measured
in turn, ``--rounds`` times each (on, off, on, off...), and the best run of each is compared, so
a machine's drift between runs weighs on both alike.

    make bench   # or: .venv/bin/python -m bench.api_auth [--seconds 10] [--workers 2] [--rounds 3]
"""

from __future__ import annotations

from contextlib import ExitStack

from tests.support.server import API_HEADERS

from bench.harness import bench_parser, bench_server, bench_server_with_account
from bench.wrk import require_wrk, wrk

RECORDING_OFF = {"OSTIARY_USAGE_RECORDING": "false"}


def _line(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name:32} {figures['rps']:8.0f} req/s   p50 {figures['p50']:6.2f} ms"
        f"   p99 {figures['p99']:6.2f} ms"
    )


def main() -> None:
    """Start the servers, measure the routes, print the figures."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    require_wrk()
    with bench_server(options.workers) as (server, key):
        auth = {**API_HEADERS, "Authorization": f"Bearer {key}"}
        wrk(f"{server.url}/account", 2, options.connections, auth)  # warm-up
        health = wrk(f"{server.url}/health", options.seconds, options.connections, {})
        account = wrk(f"{server.url}/account", options.seconds, options.connections, auth)
    print(f"workers={options.workers} connections={options.connections} seconds={options.seconds}")
    print(_line("GET /health", health))
    print(_line("GET /account (Bearer)", account))
    print(f"ratio /account : /health = {account['rps'] / health['rps']:.2f}")

    with ExitStack() as stack:
        on, on_account = stack.enter_context(bench_server_with_account(options.workers))
        off, off_account = stack.enter_context(
            bench_server_with_account(options.workers, RECORDING_OFF)
        )
        targets = {
            "recorded": (on.url, {**API_HEADERS, "Authorization": f"Bearer {on_account.api_key}"}),
            "not recorded": (
                off.url,
                {**API_HEADERS, "Authorization": f"Bearer {off_account.api_key}"},
            ),
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for url, headers in targets.values():
            wrk(f"{url}/account", 2, options.connections, headers)  # warm-up
        for _ in range(options.rounds):
            for name, (url, headers) in targets.items():
                runs[name].append(
                    wrk(f"{url}/account", options.seconds, options.connections, headers)
                )
    best = {name: max(figures, key=lambda f: f["rps"]) for name, figures in runs.items()}
    for name, figures in best.items():
        print(_line(f"GET /account, usage {name}", figures))
        every = ", ".join(f"{figures['rps']:.0f}" for figures in runs[name])
        print(f"  every run: {every} req/s")
    share = best["recorded"]["rps"] / best["not recorded"]["rps"]
    print(f"usage recorded : not recorded = {share:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
