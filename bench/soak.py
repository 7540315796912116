"""Soak: mixed traffic at 64 connections for 10 minutes against a real 2-worker server on SQLite.

Five wrk processes run side by side, their connections split by weight, over plain HTTP on
127.0.0.1:

- ``POST /oauth/token`` (client credentials; a durable write per token);
- ``POST /oauth/introspect`` of a live access token;
- ``GET /account`` and ``GET /apps`` with that access token (protected reads);
- ``PATCH /apps/{app}/config-vars`` with the API key (a fresh value each time, so a release).

Prints each stream's throughput, p50/p99 and errors (any answer but 200, and socket errors,
a request taking over ``TIMEOUT`` seconds among them), their total, and the server's resident
memory (master and workers, from /proc) idle, after a warm-up, every ``--sample`` seconds, and
at the end. Targets (issue 10): 0 errors, memory flat.

    make soak   # or: .venv/bin/python -m bench.soak [--seconds 600] [--connections 64]
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.support.server import API_HEADERS, ServerProcess

from bench.harness import bench_parser, bench_server_with_account, register_client, server_rss
from bench.wrk import WrkResult, request_script, require_wrk, rotating_script, run_wrk

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TIMEOUT = 10  # seconds after which wrk gives a request up and counts it as an error
CONFIG_KEYS = 20
# Memory counts as flat when it grew by less than this after the warm-up (allocator noise).
FLAT_BYTES, FLAT_SHARE = (
    5 * 2**20,
    0.05,
)  # config writes cycle over these keys, so the app's config stays small


@dataclass(frozen=True)
class Stream:
    """One kind of request, and its share of the connections."""

    name: str
    path: str
    script: str
    weight: int


def streams(server: ServerProcess, api_key: str) -> list[Stream]:
    """The traffic mix: a client, a token and an app made on the server for it."""
    client = register_client(server, api_key)
    bearer = {**API_HEADERS, "Authorization": f"Bearer {client.access_token}"}
    with server.client(api_key) as api:
        apps = [api.post("/apps").json()["name"] for _ in range(5)]
    writes = [f'{{"SOAK_{n % CONFIG_KEYS}": "value-{n}"}}' for n in range(CONFIG_KEYS * 50 + 1)]
    return [
        Stream(
            "POST /oauth/token (client_credentials)",
            "/oauth/token",
            request_script(
                "POST",
                body="grant_type=client_credentials",
                headers={**FORM, "Authorization": client.basic},
                count_statuses=True,
            ),
            weight=2,
        ),
        Stream(
            "POST /oauth/introspect",
            "/oauth/introspect",
            request_script(
                "POST",
                body=f"token={client.access_token}",
                headers={**FORM, "Authorization": client.basic},
                count_statuses=True,
            ),
            weight=2,
        ),
        Stream(
            "GET /account (OAuth Bearer)",
            "/account",
            request_script(headers=bearer, count_statuses=True),
            weight=3,
        ),
        Stream(
            "GET /apps (OAuth Bearer)",
            "/apps",
            request_script(headers=bearer, count_statuses=True),
            weight=2,
        ),
        Stream(
            "PATCH /apps/{app}/config-vars",
            f"/apps/{apps[0]}/config-vars",
            # 1001 distinct bodies: consecutive requests always change a value.
            rotating_script(
                "PATCH",
                headers={
                    **API_HEADERS,
                    "Authorization": f"Bearer {api_key}",
                    "Content-Type": "application/json",
                },
                bodies=writes,
                count_statuses=True,
            ),
            weight=1,
        ),
    ]


def split(connections: int, weights: list[int]) -> list[int]:
    """``connections`` shared out by weight, at least one each, summing exactly."""
    total = sum(weights)
    shares = [max(1, connections * weight // total) for weight in weights]
    for index in range(connections - sum(shares)):
        shares[index % len(shares)] += 1
    return shares


def errors_of(result: WrkResult) -> int:
    """Answers that are not 200, plus socket errors and timeouts."""
    unexpected = sum(count for status, count in result.statuses.items() if status != 200)
    return unexpected + result.socket_errors


def _mb(value: int) -> str:
    return f"{value / 2**20:7.1f} MB"


def main() -> None:
    """Start the server, run the mix for ``--seconds``, print the figures."""
    parser = bench_parser(__doc__.splitlines()[0], seconds=600, connections=64)
    parser.add_argument("--sample", type=int, default=60, help="seconds between RSS samples")
    options = parser.parse_args()
    require_wrk()
    with bench_server_with_account(options.workers) as (server, account):
        mix = streams(server, account.api_key)
        shares = split(options.connections, [stream.weight for stream in mix])
        idle = server_rss(server)

        def drive(stream: Stream, connections: int, seconds: float) -> WrkResult:
            url = f"{server.url}{stream.path}"
            return run_wrk(url, seconds, connections, script=stream.script, timeout=TIMEOUT)

        with ThreadPoolExecutor(len(mix)) as pool:  # warm-up: every code path and cache in use
            list(pool.map(lambda s, c: drive(s, c, 5), mix, shares))
        warm = server_rss(server)
        samples: list[tuple[float, int]] = [(0.0, warm)]
        finished = threading.Event()

        def sample() -> None:
            began = time.monotonic()
            while not finished.wait(options.sample):
                samples.append((time.monotonic() - began, server_rss(server)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with ThreadPoolExecutor(len(mix)) as pool:
            results = list(pool.map(lambda s, c: drive(s, c, options.seconds), mix, shares))
        finished.set()
        sampler.join()
        end = server_rss(server)
        database_size = sum(path.stat().st_size for path in server.data_dir.glob("ostiary.db*"))

    print(
        f"workers={options.workers} connections={options.connections} seconds={options.seconds} "
        f"(wrk -t1 per stream, {TIMEOUT} s timeout)"
    )
    for stream, connections, result in zip(mix, shares, results, strict=True):
        others = {status: n for status, n in result.statuses.items() if status != 200}
        print(
            f"{stream.name:40} c={connections:<3} {result.rps:7.0f} req/s"
            f"   p50 {result.p50:7.2f} ms   p99 {result.p99:7.2f} ms   errors {errors_of(result)}"
            + (f" {others}" if others else "")
            + (f" socket {result.socket_errors}" if result.socket_errors else "")
        )
    total_errors = sum(errors_of(result) for result in results)
    print(
        f"{'total':40}       {sum(r.rps for r in results):7.0f} req/s"
        f"   worst p99 {max(r.p99 for r in results):7.2f} ms"
        f"   requests {sum(r.requests for r in results)}   errors {total_errors}"
    )
    print(f"server RSS: idle {_mb(idle)}, after warm-up {_mb(warm)}, end {_mb(end)}")
    timeline = ", ".join(f"{t:.0f}s {_mb(rss).strip()}" for t, rss in samples)
    print(f"  over time: {timeline}, end {_mb(end).strip()}")
    growth = end - warm
    flat = growth < max(FLAT_BYTES, FLAT_SHARE * warm)
    print(
        f"  growth after warm-up: {growth / 2**20:+.1f} MB ({growth / warm:+.1%}): "
        + ("flat" if flat else "GREW")
    )
    print(
        "targets (0 errors, memory flat): " + ("met" if flat and total_errors == 0 else "NOT met")
    )
    print(f"database at the end: {database_size / 2**20:.1f} MB (with its WAL)")


if __name__ == "__main__":
    main()
