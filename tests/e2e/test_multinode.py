"""Several nodes, tested for real (issue 13): three ``ostiary serve --workers 2`` processes on one
private PostgreSQL cluster and one private Redis, behind nginx running the repository's own
``deploy/nginx.conf`` with TLS, as docs/deployment.md describes.

Each test shows one thing a user of such a deployment relies on: one rate-limit pool, a
revocation seen at once everywhere, logins started on one node and finished on another, one
refresh-token family under a race between nodes, the client's address and scheme passed on by
nginx and nothing forged believed, and PostgreSQL or Redis lost and back without a restart.
``tests.support.cluster_nodes`` says how a test picks the node that serves a request.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from ostiary.events import Event
from ostiary.tokens.device import DeviceKind, decide, find_by_device_code
from tests.support.cluster_nodes import Cluster, Node, sign_in, start_cluster, stop_nodes
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.nginx import CONFIG_TEMPLATE, Nginx
from tests.support.oauth_flow import CALLBACK, DEVICE_GRANT, hidden_fields, pkce_pair, query_of
from tests.support.polling import wait_for
from tests.support.server import API_HEADERS, NO_REFILL, free_port, trusting

pytestmark = pytest.mark.server

# A pool too big to empty and no refill to speak of: RateLimit-Remaining then falls by exactly one
# per request, which shows whether the nodes count in one pool.
SHARED_POOL = {"OSTIARY_RATE_LIMIT_CAPACITY": "100000", **NO_REFILL}
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    made = start_cluster(
        ["node-a", "node-b", "node-c"], {**SHARED_POOL, "OSTIARY_LOGIN_REQUEST_LIMIT": "1000"}
    )
    yield made
    made.stop()


@pytest.fixture
def factory(cluster: Cluster) -> Factory:
    assert cluster.factory is not None
    return cluster.factory


@pytest.fixture
def nodes(cluster: Cluster) -> list[Node]:
    return cluster.nodes


@pytest.fixture
def user(factory: Factory) -> UserAccount:
    return factory.account("multinode")


def _remaining(response: httpx.Response) -> int:
    return int(response.headers["ratelimit-remaining"])


def _counted_in_one_pool(nodes: list[Node], key: str, rounds: int = 3) -> list[int]:
    """RateLimit-Remaining of GET /account sent to each node in turn, ``rounds`` times."""
    seen = []
    clients = [node.client(key) for node in nodes]
    try:
        for _ in range(rounds):
            for client in clients:
                response = client.get("/account")
                assert response.status_code == 200, response.text
                seen.append(_remaining(response))
    finally:
        for client in clients:
            client.close()
    return seen


def _falls_by_one(seen: list[int]) -> bool:
    return all(later == earlier - 1 for earlier, later in itertools.pairwise(seen))


def _register(node: Node, api_key: str, **extra: Any) -> dict[str, Any]:
    with node.client(api_key) as api:
        response = api.post(
            "/oauth/clients", json={"name": "Example App", "redirect_uri": CALLBACK, **extra}
        )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _event(factory: Factory, response: httpx.Response) -> Event:
    """The event the request behind ``response`` recorded (found by its Request-Id)."""
    request_id = response.headers["request-id"].split(",")[0]
    with factory.database.unit_of_work(write=False) as session:
        found = session.scalars(select(Event).where(Event.request_id == request_id)).all()
    assert len(found) == 1, (request_id, found)
    return found[0]


# 1. One rate-limit pool --------------------------------------------------------------------------


def test_the_rate_limit_is_one_pool_across_nodes(cluster: Cluster, factory: Factory) -> None:
    """150 requests of one account spread over three nodes (two workers each) started with a pool
    of 100 and no refill: exactly 100 pass, each with one less remaining, and 50 are refused."""
    small = cluster.start_nodes(
        ["small-a", "small-b", "small-c"],
        {"OSTIARY_RATE_LIMIT_CAPACITY": "100", **NO_REFILL},
    )
    try:
        owner = factory.account("rate-limit")
        clients = [node.client(owner.api_key) for node in small]
        answers = [clients[n % 3].get("/account") for n in range(150)]
        for client in clients:
            client.close()
    finally:
        stop_nodes(small)
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 100 + [429] * 50
    assert [_remaining(answer) for answer in answers[:100]] == list(range(99, -1, -1))
    for refused in answers[100:]:
        assert refused.json()["id"] == "rate_limit"
        assert refused.json()["message"]
        assert int(refused.headers["retry-after"]) > 0


# 2. Revocation is seen at once on every node ------------------------------------------------------


def test_a_revoked_token_is_refused_by_every_other_node(
    cluster: Cluster, nodes: list[Node], user: UserAccount
) -> None:
    a, b, c = nodes
    with a.client(user.api_key) as api:
        created = api.post("/oauth/authorizations", json={"description": "revoked on b"})
    assert created.status_code == 201, created.text
    token = created.json()["access_token"]["token"]
    for node in nodes:
        with node.client(token) as api:
            assert api.get("/account").status_code == 200
    with b.client(user.api_key) as api:
        assert api.delete(f"/oauth/authorizations/{created.json()['id']}").status_code == 200
    for node in (c, a):
        with node.client(token) as api:
            refused = api.get("/account")
        assert refused.status_code == 401
        assert refused.json()["id"] == "unauthorized"
    with cluster.through_nginx(token) as api:
        assert api.get("/account").status_code == 401


def test_a_regenerated_api_key_is_refused_by_every_other_node_and_the_new_one_works(
    cluster: Cluster, nodes: list[Node], user: UserAccount
) -> None:
    a, b, c = nodes
    with a.client(user.api_key) as api:
        child = api.post("/oauth/authorizations", json={"description": "made with the old key"})
    assert child.status_code == 201
    child_token = child.json()["access_token"]["token"]
    with c.client(user.api_key) as api:
        regenerated = api.post("/oauth/authorizations/~/actions/regenerate-tokens")
    assert regenerated.status_code == 200, regenerated.text
    new_key = regenerated.json()["access_token"]["token"]
    assert new_key != user.api_key
    for node in (a, b):
        for old in (user.api_key, child_token):
            with node.client(old) as api:
                assert api.get("/account").status_code == 401, node.name
    for node in nodes:
        with node.client(new_key) as api:
            answer = api.get("/account")
        assert answer.status_code == 200
        assert answer.json()["email"] == user.email


# 3. A device code approved on one node, polled on another ---------------------------------------


def _token(node: Node, data: dict[str, str], auth: tuple[str, str] | None = None) -> httpx.Response:
    with node.client(api=False) as client:
        if auth is None:
            return client.post("/oauth/token", data=data)
        return client.post("/oauth/token", data=data, auth=auth)


def test_a_device_code_approved_on_one_node_completes_the_poll_on_another(
    nodes: list[Node], user: UserAccount
) -> None:
    a, b, c = nodes
    client = _register(a, user.api_key, client_type="public")
    with a.client(api=False) as device:
        started = device.post("/oauth/device/code", data={"client_id": client["id"]})
    assert started.status_code == 200, started.text
    code = started.json()
    poll = {
        "grant_type": DEVICE_GRANT,
        "device_code": code["device_code"],
        "client_id": client["id"],
    }
    assert _token(b, poll).json()["error"] == "authorization_pending"

    cookies = sign_in(a, user.email, PASSWORD, client_ip=next(_addresses))
    with c.client(cookies=cookies, api=False) as browser:
        entry = browser.get("/device", params={"user_code": code["user_code"]})
        assert entry.status_code == 200, entry.text
        shown = browser.post(
            "/device", data={**hidden_fields(entry.text), "user_code": code["user_code"]}
        )
        assert "Example App" in shown.text
        decided = browser.post("/device", data={**hidden_fields(shown.text), "decision": "allow"})
    assert decided.status_code == 303

    tokens = _token(b, poll)
    assert tokens.status_code == 200, tokens.text
    with a.client(tokens.json()["access_token"]) as api:
        assert api.get("/apps").status_code == 200
    assert _token(c, poll).json()["error"] == "expired_token"  # the tokens come once, anywhere


# 4. heroku login: started on A, long-polled on B, approved on C ----------------------------------


class _LongPoll:
    """``GET /auth/cli/callback/{id}`` held on one node in a thread; when its answer came."""

    def __init__(self, node: Node, started: dict[str, str]) -> None:
        self.answer: httpx.Response | None = None
        self.answered_at = 0.0
        self._thread = threading.Thread(target=self._wait, args=(node, started), daemon=True)
        self._thread.start()

    def _wait(self, node: Node, started: dict[str, str]) -> None:
        with node.client(started["token"], api=False) as client:
            self.answer = client.get(started["cli_url"], timeout=60)
        self.answered_at = time.monotonic()

    def waiting(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> httpx.Response:
        self._thread.join(timeout=30)
        assert self.answer is not None, "the long poll was not answered"
        return self.answer


def _start_heroku_login(node: Node) -> dict[str, str]:
    with node.client(api=False, client_ip=next(_addresses)) as client:
        started = client.post("/auth", json={"description": "Heroku CLI login, three nodes"})
    assert started.status_code == 200, started.text
    body: dict[str, str] = started.json()
    return body


def _approve_heroku_login(node: Node, cookies: CookieJar, browser_url: str) -> httpx.Response:
    with node.client(cookies=cookies, api=False) as browser:
        page = browser.get(browser_url)
        assert "the Heroku CLI" in page.text, page.text
        return browser.post(browser_url, data={**hidden_fields(page.text), "decision": "allow"})


def _heroku_login_delay(nodes: list[Node], cookies: CookieJar, email: str) -> float:
    """A heroku login started on the first node, long-polled on the second and approved on the
    third: seconds from the approval's answer to the long poll's."""
    a, b, c = nodes
    started = _start_heroku_login(a)
    waiter = _LongPoll(b, started)
    time.sleep(1.2)
    assert waiter.waiting()  # nothing to answer before the browser decides
    decided = _approve_heroku_login(c, cookies, started["browser_url"])
    approved_at = time.monotonic()
    assert decided.status_code == 303, decided.text
    answer = waiter.join()
    assert answer.status_code == 200, answer.text
    with c.client(answer.json()["access_token"]) as api:
        assert api.get("/account").json()["email"] == email
    return waiter.answered_at - approved_at


def test_heroku_login_long_poll_on_one_node_wakes_when_another_approves(
    nodes: list[Node], user: UserAccount
) -> None:
    """The answer follows the approval within 250 ms, each of three times (a once-a-second
    database re-read would miss that about three times in four)."""
    cookies = sign_in(nodes[0], user.email, PASSWORD, client_ip=next(_addresses))
    delays = [_heroku_login_delay(nodes, cookies, user.email) for _ in range(3)]
    assert max(delays) < 0.25, f"long poll answered {delays} s after the approval"


def test_heroku_login_long_poll_completes_with_redis_stopped(
    cluster: Cluster, nodes: list[Node], factory: Factory, user: UserAccount
) -> None:
    """With Redis down nothing can publish the approval: the waiting node finds it in the
    database by itself, within about a second and a half."""
    a, b, _ = nodes
    started = _start_heroku_login(a)
    waiter = _LongPoll(b, started)
    time.sleep(0.5)
    cluster.redis.stop()
    try:
        time.sleep(0.5)
        assert waiter.waiting()
        with factory.database.unit_of_work(write=True) as session:
            unit = factory.unit(session)
            row = find_by_device_code(unit, started["token"], kind=DeviceKind.HEROKU_CLI)
            assert row is not None
            decide(unit, row, account_id=user.id, allow=True)
        approved_at = time.monotonic()
        answer = waiter.join()
        delay = waiter.answered_at - approved_at
    finally:
        cluster.redis.start()
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]
    assert delay < 1.5, f"long poll answered {delay:.2f} s after the approval"


# 5. A refresh-token race between two nodes ------------------------------------------------------


def _authorization_code(
    node: Node, cookies: CookieJar, client: dict[str, Any], challenge: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": client["id"],
        "state": "race",
        "scope": "read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with node.client(cookies=cookies, api=False) as browser:
        consent = browser.get("/oauth/authorize?" + urlencode(params))
        assert consent.status_code == 200, consent.text
        allowed = browser.post(
            "/oauth/authorize", data={**hidden_fields(consent.text), "decision": "allow"}
        )
    assert allowed.status_code in (302, 303), allowed.text
    answer = query_of(allowed.headers["location"])
    assert answer["state"] == "race"
    return answer["code"]


def test_a_refresh_race_between_two_nodes_leaves_one_live_family(
    nodes: list[Node], user: UserAccount
) -> None:
    a, b, c = nodes
    client = _register(a, user.api_key)
    auth = (client["id"], client["secret"])
    cookies = sign_in(c, user.email, PASSWORD, client_ip=next(_addresses))
    verifier, challenge = pkce_pair()
    code = _authorization_code(c, cookies, client, challenge)
    first = _token(
        a, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}, auth
    )
    assert first.status_code == 200, first.text
    refresh = first_refresh = first.json()["refresh_token"]
    live_access: list[str] = []
    for round_number in range(4):
        start = threading.Barrier(2)

        def present(
            node: Node, token: str = refresh, start: threading.Barrier = start
        ) -> httpx.Response:
            start.wait()
            return _token(node, {"grant_type": "refresh_token", "refresh_token": token}, auth)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(present, (a, b)))
        assert [answer.status_code for answer in answers] == [200, 200], [
            answer.text for answer in answers
        ]
        live_access = [answer.json()["access_token"] for answer in answers]
        for token in live_access:  # both racers stay signed in, on any node
            with c.client(token) as api:
                assert api.get("/apps").status_code == 200
        refresh = answers[round_number % 2].json()["refresh_token"]

    with c.client(user.api_key) as api:
        granted = [
            authorization
            for authorization in api.get("/oauth/authorizations").json()
            if (authorization.get("client") or {}).get("id") == client["id"]
        ]
    assert len(granted) == 1, granted  # one family, not one per racing node
    # And it is one family: a stale copy of its first refresh token revokes all of it.
    replay = _token(c, {"grant_type": "refresh_token", "refresh_token": first_refresh}, auth)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    for token in live_access:
        for node in nodes:
            with node.client(token) as api:
                assert api.get("/apps").status_code == 401


# 6. Behind nginx: the client's address and scheme, and nothing forged ----------------------------


def test_nginx_passes_on_the_client_address_and_https(
    cluster: Cluster, factory: Factory, user: UserAccount
) -> None:
    with cluster.through_nginx(user.api_key, local_address="127.0.0.5") as api:
        created = api.post("/oauth/authorizations", json={"description": "via nginx"})
        claimed = api.post(
            "/oauth/authorizations",
            json={"description": "via nginx, claiming another address"},
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"},
        )
        login_page = api.get("/login")
    assert created.status_code == 201, created.text
    assert _event(factory, created).ip == "127.0.0.5"
    assert _event(factory, claimed).ip == "127.0.0.5"  # nginx replaces what a client claims
    # The node saw HTTPS: it sends HSTS (it does on HTTPS only) and marks cookies Secure.
    assert created.headers["strict-transport-security"].startswith("max-age=")
    assert claimed.headers["strict-transport-security"].startswith("max-age=")
    cookies = login_page.headers.get_list("set-cookie")
    assert cookies
    assert all("secure" in cookie.lower() for cookie in cookies), cookies


def test_forwarded_headers_sent_straight_to_a_node_are_not_believed(
    nodes: list[Node], factory: Factory, user: UserAccount
) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with nodes[1].direct(local_address="127.0.0.7") as api:
        created = api.post(
            "/oauth/authorizations",
            json={"description": "forged headers"},
            headers={**forged, "Authorization": f"Bearer {user.api_key}"},
        )
        login_page = api.get("/login", headers=forged)
    assert created.status_code == 201, created.text
    assert _event(factory, created).ip == "127.0.0.7"
    # Treated as the plain HTTP it is: no HSTS, no Secure cookie.
    assert "strict-transport-security" not in created.headers
    cookies = login_page.headers.get_list("set-cookie")
    assert cookies
    assert not any("secure" in cookie.lower() for cookie in cookies), cookies


# 7. PostgreSQL restarted under load --------------------------------------------------------------


def _writer(
    client: httpx.Client,
    app: str,
    acked: dict[str, str],
    unexpected: list[str],
    stop: threading.Event,
) -> None:
    """PATCH one new config var after another, remembering those answered 200."""
    with client:
        for number in itertools.count():
            if stop.is_set():
                return
            name = f"K{threading.get_ident()}_{number}"
            try:
                response = client.patch(f"/apps/{app}/config-vars", json={name: str(number)})
            except httpx.TransportError as error:
                unexpected.append(f"{name}: {error!r}")
                continue
            if response.status_code == 200:
                acked[name] = str(number)
                time.sleep(0.01)  # a steady load, not a flood of the shared machine
            elif response.status_code == 503 and response.json()["id"] == "service_unavailable":
                time.sleep(0.05)
            else:
                unexpected.append(f"{name}: {response.status_code} {response.text}")


def _all_releases(api: httpx.Client, app: str) -> list[dict[str, Any]]:
    """Every release of the app, following ``Next-Range`` across pages."""
    releases: list[dict[str, Any]] = []
    wanted = "version ..; max=1000"
    while True:
        page = api.get(f"/apps/{app}/releases", headers={"Range": wanted})
        assert page.status_code in (200, 206), page.text
        releases += page.json()
        if page.status_code == 200:
            return releases
        wanted = page.headers["next-range"]


def _wait_for_health(nodes: list[Node], status: int, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        seen = [node.health() for node in nodes]
        if all(code == status for code in seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_postgres_restarted_under_load_is_503_then_every_node_recovers(
    cluster: Cluster, nodes: list[Node], factory: Factory
) -> None:
    owner = factory.account("pg-restart")
    pids = [node.server.process.pid for node in nodes if node.server.process]
    with cluster.through_nginx(owner.api_key) as api:
        app = api.post("/apps", json={}).json()["name"]
    acked: dict[str, str] = {}
    unexpected: list[str] = []
    stop = threading.Event()
    clients = [cluster.through_nginx(owner.api_key), nodes[1].client(owner.api_key)]
    clients.append(nodes[2].client(owner.api_key))
    writers = [
        threading.Thread(target=_writer, args=(client, app, acked, unexpected, stop))
        for client in clients
    ]
    for writer in writers:
        writer.start()
    wait_for("the writers' first acknowledged writes", lambda: len(acked) > 0)
    acked_before = len(acked)
    cluster.postgres.stop()
    try:
        assert _wait_for_health(nodes, 503) == [503, 503, 503]
        acked_while_down = len(acked)
        attempts = []
        for node in nodes:
            with node.client(owner.api_key) as api:
                attempts += [api.get("/account"), api.get(f"/apps/{app}/config-vars")]
                attempts.append(api.post("/oauth/authorizations", json={"description": "x"}))
        with cluster.through_nginx(owner.api_key) as api:
            attempts.append(api.get("/apps"))
        for response in attempts:
            assert response.status_code == 503, (response.request.url, response.text)
            assert response.json()["id"] == "service_unavailable"
            assert int(response.headers["retry-after"]) > 0
    finally:
        cluster.postgres.start()

    assert _wait_for_health(nodes, 200) == [200, 200, 200]
    wait_for("the writers getting through again", lambda: len(acked) > acked_while_down)
    stop.set()
    for writer in writers:
        writer.join(timeout=30)
    assert unexpected == []
    assert [node.server.process.pid for node in nodes if node.server.process] == pids
    for node in nodes:  # recovered by itself, both workers, every pooled connection
        with node.client(owner.api_key) as api:
            for _ in range(10):
                assert api.get("/account").status_code == 200, node.name
    with cluster.through_nginx(owner.api_key) as api:
        config = api.get(f"/apps/{app}/config-vars").json()
        releases = _all_releases(api, app)
    assert acked_before > 0  # the writers wrote before the outage
    assert len(acked) > acked_while_down  # and again after it, through the same processes
    for name, value in acked.items():
        assert config.get(name) == value, name  # no acknowledged write lost
    versions = [release["version"] for release in releases]
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) == 1 + len(config)  # the app's first release, then one per var
    for node in nodes:
        assert "unhandled error" not in node.log()


# 8. Redis stopped and started -------------------------------------------------------------------


def _password_login(node: Node, user: UserAccount) -> httpx.Response:
    with node.client(api=True) as api:
        return api.post(
            "/oauth/authorizations",
            json={"description": "heroku login -i"},
            auth=(user.email, PASSWORD),
        )


def _client_secret_check(node: Node, client: dict[str, Any]) -> httpx.Response:
    return _token(node, {"grant_type": "client_credentials"}, (client["id"], client["secret"]))


def _rate_limit_failures(node: Node) -> float:
    """``ostiary_shared_state_failures_total{use="rate_limit"}`` on the node's ``/metrics``
    (its workers summed), 0 before the first failure."""
    with node.direct() as client:
        metrics = client.get("/metrics")
    assert metrics.status_code == 200, metrics.text
    for line in metrics.text.splitlines():
        if line.startswith('ostiary_shared_state_failures_total{use="rate_limit"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_redis_stopped_and_started(
    cluster: Cluster, nodes: list[Node], factory: Factory, user: UserAccount
) -> None:
    """Tokens keep working without Redis (the rate limit fails open); password, client-secret and
    login-code checks answer 503, never unthrottled; and everything comes back by itself with
    Redis: the checks, one rate-limit pool, the wake-ups of long polls on other nodes."""
    client = _register(nodes[0], user.api_key, client_credentials_scopes=["read"])
    assert _client_secret_check(nodes[1], client).status_code == 200
    assert _falls_by_one(_counted_in_one_pool(nodes, user.api_key))
    failures_before = [_rate_limit_failures(node) for node in nodes]
    cookies = sign_in(nodes[0], user.email, PASSWORD, client_ip=next(_addresses))
    pending = _start_heroku_login(nodes[0])
    cluster.redis.stop()
    try:
        for node in nodes:
            with node.client(user.api_key) as api:
                for _ in range(4):  # both workers
                    assert api.get("/account").status_code == 200, node.name
            login = _password_login(node, user)
            assert login.status_code == 503, login.text
            assert login.json()["id"] == "service_unavailable"
            secret = _client_secret_check(node, client)
            assert secret.status_code == 503, secret.text
            assert secret.json()["error"] == "temporarily_unavailable"
            with node.client(cookies=cookies, api=False) as browser:  # a login code is checked
                code_check = browser.get(pending["browser_url"])
            assert code_check.status_code == 503, code_check.text
        with cluster.through_nginx(user.api_key) as api:
            assert api.get("/account").status_code == 200
    finally:
        cluster.redis.start()

    # Each pass checks six passwords (argon2) on a loaded machine, after the breaker's back-off.
    deadline = time.monotonic() + 120
    while True:
        logins = [_password_login(node, user).status_code for node in nodes * 2]
        secrets_checked = [_client_secret_check(node, client).status_code for node in nodes * 2]
        shared = _falls_by_one(_counted_in_one_pool(nodes, user.api_key))
        if (logins, secrets_checked, shared) == ([201] * 6, [200] * 6, True):
            break
        assert time.monotonic() < deadline, (logins, secrets_checked, shared)
        time.sleep(0.5)
    # The wake-ups subscribe again by themselves: an approval on one node wakes another at once.
    delays = [_heroku_login_delay(nodes, cookies, user.email)]
    resubscribed = time.monotonic() + 30
    while delays[-1] >= 0.25 and time.monotonic() < resubscribed:
        delays.append(_heroku_login_delay(nodes, cookies, user.email))
    assert delays[-1] < 0.25, delays
    for node, before in zip(nodes, failures_before, strict=True):
        assert _rate_limit_failures(node) > before, node.name  # counted, for the operator
        assert "shared state unavailable for rate_limit" in node.log()
        assert "unhandled error" not in node.log()


# nginx's own answers ----------------------------------------------------------------------------


def test_nginx_answers_in_the_api_error_format_when_no_node_answers() -> None:
    """Every node unreachable, or a body past nginx's cap: the API's JSON errors, not nginx's
    HTML pages."""
    nginx = Nginx([free_port(), free_port()])  # nobody listens on these
    nginx.start()
    try:
        verify = trusting(nginx.cert_path)
        down = httpx.get(f"{nginx.url}/account", headers=API_HEADERS, verify=verify)
        too_large = httpx.post(f"{nginx.url}/apps", content=b"x" * (3 * 1024 * 1024), verify=verify)
    finally:
        nginx.stop()
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/json"
    assert down.json()["id"] == "service_unavailable"
    assert int(down.headers["retry-after"]) > 0
    assert too_large.status_code == 413
    assert too_large.json()["id"] == "request_entity_too_large"


# The documentation shows the configuration the tests run ---------------------------------------


def test_the_deployment_guide_shows_the_nginx_configuration_the_tests_run() -> None:
    guide = (CONFIG_TEMPLATE.parents[1] / "docs" / "deployment.md").read_text()
    shown = guide.split("```nginx\n", 1)[1].split("```", 1)[0]
    assert shown == CONFIG_TEMPLATE.read_text()
