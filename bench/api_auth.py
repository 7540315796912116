"""Authenticated ``GET /account`` against unauthenticated ``GET /health`` on one server.

Starts a real Ostiary server (plain HTTP on 127.0.0.1, SQLite, ``--workers`` processes), makes an
account, and drives both routes with ``wrk`` (Debian package ``wrk``) at 16 connections, printing
requests per second, latency percentiles and the ratio. Targets (issue 2, these 2-core machines):
``/account`` >= 3500 req/s and a ratio >= 0.5.

    make bench   # or: .venv/bin/python -m bench.api_auth [--seconds 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import run

from tests.support.factories import Factory
from tests.support.server import API_HEADERS, ServerProcess, start_server

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk(
    url: str,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    threads: int = 1,
    script: Path | None = None,
) -> dict[str, float]:
    """Run wrk and parse requests/s and latency percentiles (ms)."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    out = run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        figures[f"p{pct}"] = _ms(re.search(rf"\s{pct}(?:\.000)?%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return figures


def bench_options(description: str) -> argparse.Namespace:
    """The options every benchmark takes; refuses to run without wrk."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return options


@contextmanager
def bench_server(workers: int) -> Iterator[tuple[ServerProcess, str]]:
    """A fresh server over plain HTTP on loopback, and the API key of a new account on it.

    The rate limiter still counts every request; its pool is just too large to run dry.
    """
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp), workers=workers, settings={"OSTIARY_RATE_LIMIT_CAPACITY": "1000000000"}
        )
        try:
            factory = Factory(server.data_dir)
            key = factory.account("bench").api_key
            factory.close()
            yield server, key
        finally:
            server.stop()


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
