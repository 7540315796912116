"""What every benchmark sets up: its options, a fresh real server, an account and OAuth client
on it, and the server's memory as Linux counts it."""

from __future__ import annotations

import argparse
import base64
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.factories import PASSWORD, Factory
from tests.support.processes import process_tree, rss_bytes
from tests.support.server import ServerProcess, start_server

from bench.wrk import require_wrk

# The rate limiter still counts every request; its pool is just too large to run dry.
UNLIMITED = {"OSTIARY_RATE_LIMIT_CAPACITY": "1000000000"}


def bench_parser(
    description: str, *, seconds: int = 10, connections: int = 16
) -> argparse.ArgumentParser:
    """The options every benchmark takes, with this benchmark's defaults; add more to it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=int, default=seconds)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--workers", type=int, default=2)
    return parser


def bench_options(description: str) -> argparse.Namespace:
    """Parse the common options; refuses to run without wrk."""
    options = bench_parser(description).parse_args()
    require_wrk()
    return options


@dataclass(frozen=True)
class BenchAccount:
    """The account a benchmark acts as."""

    email: str
    password: str
    api_key: str


@contextmanager
def bench_server_with_account(
    workers: int, settings: Mapping[str, str] | None = None
) -> Iterator[tuple[ServerProcess, BenchAccount]]:
    """A fresh server over plain HTTP on loopback (rate limit out of the way, plus ``settings``),
    and a new account on it."""
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp), workers=workers, settings={**UNLIMITED, **(settings or {})}
        )
        try:
            factory = Factory(server.data_dir)
            account = factory.account("bench")
            factory.close()
            yield server, BenchAccount(account.email, PASSWORD, account.api_key)
        finally:
            server.stop()


@contextmanager
def bench_server(workers: int) -> Iterator[tuple[ServerProcess, str]]:
    """A fresh server over plain HTTP on loopback, and the API key of a new account on it."""
    with bench_server_with_account(workers) as (server, account):
        yield server, account.api_key


@dataclass(frozen=True)
class BenchClient:
    """A confidential OAuth client allowed client credentials, and one access token of it."""

    id: str
    basic: str  # the client's ``Authorization: Basic`` value
    access_token: str


def register_client(server: ServerProcess, api_key: str) -> BenchClient:
    """Register a client (scopes read and identity); get an access token by client credentials."""
    with server.client(api_key) as api:
        client = api.post(
            "/oauth/clients",
            json={
                "name": "bench",
                "redirect_uri": "https://example.com/cb",
                "client_credentials_scopes": ["read", "identity"],
            },
        ).json()
    basic = "Basic " + base64.b64encode(f"{client['id']}:{client['secret']}".encode()).decode()
    token = httpx.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic},
    ).json()["access_token"]
    return BenchClient(client["id"], basic, token)


def server_rss(server: ServerProcess) -> int:
    """The server's resident memory in bytes: uvicorn's master and every worker, summed."""
    assert server.process is not None
    return rss_bytes(process_tree(server.process.pid))
