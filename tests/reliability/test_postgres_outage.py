"""PostgreSQL stopped and started under a running two-worker server (issue 10, item 14).

The cluster is a private one (``tests.support.pg_cluster``): made with initdb on a free port, so
the machine's own server is never touched. While it is down every request is answered 503
``service_unavailable`` with ``Retry-After`` in the API's error format, ``/health`` says the
database is down, and no request is a 500; once it is back the same server process serves
again by itself, and what was written is whole: every acknowledged config change is there, no
unacknowledged one is half there, and release versions are consecutive.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.pg_cluster import PrivateCluster
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    made = PrivateCluster()
    made.start()
    yield made
    made.destroy()


@pytest.fixture(scope="module")
def pg_server(
    cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, Factory]]:
    url = cluster.create_database(f"ostiary_{secrets.token_hex(4)}")
    server = start_server(
        tmp_path_factory.mktemp("pg-outage"), settings={"OSTIARY_DATABASE_URL": url}, workers=2
    )
    factory = Factory(Path(server.data_dir), database_url=url)
    yield server, factory
    factory.close()
    server.stop()


def _writer(
    server: ServerProcess, key: str, app: str, acked: dict[str, str], stop: threading.Event
) -> None:
    """PATCH one new config var after another, remembering those answered 200."""
    with server.client(key) as api:
        for number in itertools.count():
            if stop.is_set():
                return
            name = f"K{threading.get_ident()}_{number}"
            try:
                response = api.patch(f"/apps/{app}/config-vars", json={name: str(number)})
            except httpx.TransportError:
                continue
            if response.status_code == 200:
                acked[name] = str(number)
            else:
                assert response.status_code == 503, response.text
                time.sleep(0.05)


def _wait_for_health(server: ServerProcess, status: int, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{server.url}/health", timeout=10)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_a_lost_database_is_503_then_recovers_without_a_restart(
    cluster: PrivateCluster, pg_server: tuple[ServerProcess, Factory]
) -> None:
    server, factory = pg_server
    owner: UserAccount = factory.account()
    assert server.process is not None
    pid = server.process.pid
    with server.client(owner.api_key) as api:
        app = api.post("/apps", json={}).json()["name"]
        assert api.patch(f"/apps/{app}/config-vars", json={"BEFORE": "1"}).status_code == 200

    # Writers run while the database goes away under them, and on after it is back.
    acked: dict[str, str] = {}
    stop = threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(server, owner.api_key, app, acked, stop))
        for _ in range(3)
    ]
    for writer in writers:
        writer.start()
    time.sleep(1.0)
    cluster.stop()
    try:
        down = _wait_for_health(server, 503)
        assert down.status_code == 503
        assert down.json()["database"] == "down"
        assert down.json()["id"] == "service_unavailable"
        with server.client(owner.api_key) as api:
            attempts = [
                api.get("/account"),
                api.get("/apps"),
                api.get(f"/apps/{app}/config-vars"),
                api.patch(f"/apps/{app}/config-vars", json={"DURING": "x"}),
                api.post("/oauth/authorizations", json={"description": "during the outage"}),
                api.post("/apps", json={}),
            ]
        attempts.append(
            httpx.post(
                f"{server.url}/oauth/token",
                data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
                timeout=10,
            )
        )
        for response in attempts:
            assert response.status_code == 503, (response.request.url, response.text)
            assert response.json()["id"] == "service_unavailable"
            assert int(response.headers["retry-after"]) > 0
        for page in ("/login", "/dashboard", "/device"):
            assert httpx.get(f"{server.url}{page}", timeout=10).status_code < 500, page
    finally:
        cluster.start()

    up = _wait_for_health(server, 200)
    assert up.status_code == 200, up.text
    assert up.json()["database"] == "up"
    time.sleep(1.0)  # the writers get through again
    stop.set()
    for writer in writers:
        writer.join(timeout=30)

    assert server.process.poll() is None
    assert server.process.pid == pid  # recovered by itself, not restarted
    with server.client(owner.api_key) as api:
        for _ in range(10):  # both workers, every pooled connection
            assert api.get("/account").status_code == 200
        config = api.get(f"/apps/{app}/config-vars").json()
        releases = api.get(f"/apps/{app}/releases", headers={"Range": "version ..; max=1000"})
        assert api.patch(f"/apps/{app}/config-vars", json={"AFTER": "1"}).status_code == 200
    assert "DURING" not in config
    for name, value in acked.items():
        assert config.get(name) == value, name  # no acknowledged write lost
    versions = [release["version"] for release in releases.json()]
    assert versions == list(range(1, len(versions) + 1))
    # Every var present came with its release, and nothing else was written half-way.
    described = " ".join(release["description"] for release in releases.json())
    for name in config:
        assert name in described, name
    assert len(versions) == 1 + len(config)  # the app's first release, then one per change
    assert "unhandled error" not in server.log()  # what the middleware logs for every 500
