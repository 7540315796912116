"""Several Ostiary nodes for real: separate ``ostiary serve`` processes on one private PostgreSQL
cluster and one private Redis, behind nginx (``deploy/nginx.conf``), as docs/deployment.md
describes a deployment.

A test reaches a node in one of three ways:

- through nginx (:attr:`Cluster.public_url`), which picks the node (round robin);
- :meth:`Node.client`: to one chosen node, as nginx would send it (plain HTTP, the Host header of
  the public URL, ``X-Forwarded-For`` and ``X-Forwarded-Proto: https``). The test connects from
  127.0.0.1, a trusted proxy of every node, so the node believes both: this is how a test says
  which node serves a request, which nginx's round robin does not let it choose;
- :meth:`Node.direct`: to the node's own port with nothing added (an untrusted client when bound
  to another loopback address than 127.0.0.1).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

import httpx

from tests.support.factories import Factory
from tests.support.nginx import Nginx
from tests.support.oauth_flow import hidden_fields
from tests.support.pg_cluster import PrivateCluster
from tests.support.private_redis import PrivateRedis
from tests.support.server import (
    API_HEADERS,
    ServerProcess,
    free_port,
    ostiary_env,
    run_cli,
    trusting,
    wait_until_healthy,
)
from tests.support.tools import require_program

# Every node may hold pool_size + max_overflow = 20 connections per worker (db.py); PostgreSQL's
# default of 100 is less than the 3 nodes x 2 workers x 20 of the main nodes plus a second trio.
MAX_CONNECTIONS = 300


class ForwardedToNode(httpx.BaseTransport):
    """Delivers requests addressed to the public URL to one node, as nginx does: over plain HTTP
    to its port, the Host header kept, ``X-Forwarded-For: <client_ip>`` and
    ``X-Forwarded-Proto: https`` set. The response stays the public URL's (its cookies too)."""

    def __init__(self, port: int, client_ip: str) -> None:
        self._port = port
        self._client_ip = client_ip
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the node."""
        headers = httpx.Headers(request.headers)
        headers["X-Forwarded-For"] = self._client_ip
        headers["X-Forwarded-Proto"] = "https"
        forwarded = httpx.Request(
            request.method,
            request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port),
            headers=headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(forwarded)

    def close(self) -> None:
        """Close the pooled connections."""
        self._inner.close()


@dataclass
class Node:
    """One ``ostiary serve --workers 2`` process of the cluster."""

    name: str
    server: ServerProcess
    public_url: str

    @property
    def port(self) -> int:
        """The node's own (plain HTTP, loopback) port."""
        return self.server.port

    def client(
        self,
        token: str | None = None,
        *,
        client_ip: str = "127.0.0.1",
        cookies: CookieJar | None = None,
        api: bool = True,
    ) -> httpx.Client:
        """A client whose requests this node serves as if nginx had passed them on from a
        client at ``client_ip``; with ``api`` it sends the API's Accept header. Clients given the
        same ``cookies`` jar share it, as one browser's tabs do."""
        headers = dict(API_HEADERS) if api else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(
            base_url=self.public_url,
            headers=headers,
            cookies=cookies,
            transport=ForwardedToNode(self.port, client_ip),
            follow_redirects=False,
            timeout=30,
        )

    def direct(self, *, local_address: str = "127.0.0.1", **kwargs: object) -> httpx.Client:
        """A client of the node's own port, from ``local_address``, with nothing added."""
        return httpx.Client(
            base_url=self.server.url,
            headers=API_HEADERS,
            transport=httpx.HTTPTransport(local_address=local_address),
            timeout=30,
            **kwargs,  # type: ignore[arg-type]
        )

    def health(self) -> int:
        """The status of ``GET /health`` (200 up, 503 when the database is down)."""
        return httpx.get(f"{self.server.url}/health", timeout=10).status_code

    def log(self) -> str:
        """Everything the node printed so far."""
        return self.server.log()


def start_nodes(
    base: Path,
    names: list[str],
    env: Mapping[str, str],
    public_url: str,
    ports: list[int] | None = None,
) -> list[Node]:
    """Start one ``ostiary serve --workers 2`` per name (on ``ports`` when given), all at once,
    and wait until each is healthy."""
    nodes: list[Node] = []
    try:
        for index, name in enumerate(names):
            data_dir = base / name
            data_dir.mkdir(parents=True, exist_ok=True)
            node_env = {**env, "OSTIARY_DATA_DIR": str(data_dir)}
            port = ports[index] if ports else free_port()
            server = ServerProcess(data_dir=data_dir, port=port, env=node_env)
            args = [
                "serve", "--host", "127.0.0.1", "--port", str(port), "--insecure-http",
                "--workers", "2",
            ]  # fmt: skip
            with server.log_path.open("wb") as log:
                server.process = subprocess.Popen(
                    [sys.executable, "-m", "ostiary", *args],
                    env=node_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            nodes.append(Node(name=name, server=server, public_url=public_url))
        for node in nodes:
            wait_until_healthy(node.server, timeout=60)
    except BaseException:
        stop_nodes(nodes)
        raise
    return nodes


def stop_nodes(nodes: list[Node]) -> None:
    """Stop every node (SIGTERM to each master, which stops its workers) and wait for them."""
    for node in nodes:
        if node.server.process is not None and node.server.process.poll() is None:
            node.server.process.terminate()
    for node in nodes:
        node.server.stop()


@dataclass
class Cluster:
    """PostgreSQL, Redis, three nodes and nginx, started in that order."""

    base: Path
    postgres: PrivateCluster
    database_url: str
    redis: PrivateRedis
    nginx: Nginx
    secret_key: str
    settings: dict[str, str]
    nodes: list[Node] = field(default_factory=list)
    factory: Factory | None = None

    @property
    def public_url(self) -> str:
        """nginx's HTTPS URL, which is also every node's ``OSTIARY_ISSUER``."""
        return self.nginx.url

    def node_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment every node runs with (the same secret key, database and Redis)."""
        return ostiary_env(self.base, {**self.settings, **(extra or {})})

    def start_nodes(self, names: list[str], extra: Mapping[str, str] | None = None) -> list[Node]:
        """More nodes on this database and Redis (not behind nginx); the caller stops them."""
        return start_nodes(self.base / "nodes", names, self.node_env(extra), self.public_url)

    def through_nginx(
        self, token: str | None = None, *, local_address: str = "127.0.0.1"
    ) -> httpx.Client:
        """A client of the public URL, connecting from ``local_address``: nginx chooses the
        node."""
        headers = dict(API_HEADERS)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        transport = httpx.HTTPTransport(
            local_address=local_address, verify=trusting(self.nginx.cert_path)
        )
        return httpx.Client(
            base_url=self.public_url, headers=headers, transport=transport, timeout=30
        )

    def stop(self) -> None:
        """Stop everything that was started, in reverse order, and delete its files."""
        if self.factory is not None:
            self.factory.close()
        self.nginx.stop()
        stop_nodes(self.nodes)
        self.redis.destroy()
        self.postgres.destroy()
        shutil.rmtree(self.base, ignore_errors=True)


def _allow_connections(postgres: PrivateCluster, count: int) -> None:
    """Raise the cluster's max_connections (before it starts; initdb made the file)."""
    conf = postgres.data / "postgresql.conf"
    with conf.open("a") as handle:
        handle.write(f"\nmax_connections = {count}\n")


def start_cluster(node_names: list[str], settings: Mapping[str, str]) -> Cluster:
    """PostgreSQL (migrated once), Redis, one node per name and nginx in front of them."""
    # Every program first, so that a missing one skips before anything was started.
    require_program("nginx", "apt-get install nginx")
    require_program("openssl", "apt-get install openssl")
    require_program("redis-server", "apt-get install redis-server")
    postgres = PrivateCluster()
    base = Path(tempfile.mkdtemp(prefix="ostiary-nodes-"))
    redis = None
    nginx = None
    cluster = None
    try:
        _allow_connections(postgres, MAX_CONNECTIONS)
        postgres.start()
        database_url = postgres.create_database("ostiary")
        redis = PrivateRedis()
        redis.start()
        secret_key = secrets.token_urlsafe(48)
        # nginx's port first: it is every node's issuer. nginx starts once the nodes answer.
        upstream_ports = [free_port() for _ in node_names]
        nginx = Nginx(upstream_ports)
        cluster = Cluster(
            base=base,
            postgres=postgres,
            database_url=database_url,
            redis=redis,
            nginx=nginx,
            secret_key=secret_key,
            settings={
                "OSTIARY_DATABASE_URL": database_url,
                "OSTIARY_SECRET_KEY": secret_key,
                "OSTIARY_REDIS_URL": redis.url,
                "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
                "OSTIARY_ISSUER": nginx.url,
                **settings,
            },
        )
        migrated = run_cli("db", "upgrade", env=cluster.node_env())
        assert migrated.returncode == 0, migrated.stderr
        cluster.nodes = start_nodes(
            base / "nodes", node_names, cluster.node_env(), nginx.url, upstream_ports
        )
        nginx.start()
        cluster.factory = _factory(cluster)
    except BaseException:
        if cluster is not None:
            stop_nodes(cluster.nodes)
        if nginx is not None:
            nginx.stop()
        if redis is not None:
            redis.destroy()
        postgres.destroy()
        shutil.rmtree(base, ignore_errors=True)
        raise
    return cluster


def _factory(cluster: Cluster) -> Factory:
    """Test data made in the cluster's database, keyed with the nodes' secret."""
    data_dir = cluster.base / "factory"
    data_dir.mkdir(mode=0o700)
    secret = data_dir / "secret_key"
    secret.write_text(cluster.secret_key)
    os.chmod(secret, 0o600)
    return Factory(data_dir, database_url=cluster.database_url)


def sign_in(node: Node, email: str, password: str, *, client_ip: str) -> CookieJar:
    """Sign in on ``node``'s login page; the browser's cookie jar (it works on every node)."""
    cookies = CookieJar()
    with node.client(client_ip=client_ip, cookies=cookies, api=False) as browser:
        form = hidden_fields(browser.get("/login").text)
        done = browser.post("/login", data={**form, "email": email, "password": password})
        assert done.status_code == 303, done.text
    return cookies
