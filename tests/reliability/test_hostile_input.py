"""Hostile input against a real server process (issue 10, items 5 and 10): oversize bodies,
deep JSON, invalid UTF-8, NUL and control characters in every string field, huge headers and
hundreds of half-open connections. Nothing is a 500, errors keep the API's shape, and the
server keeps serving real requests, its memory flat."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.server import API_HEADERS, ServerProcess, start_server

pytestmark = pytest.mark.server

FIFTY_MB = 50 * 1024 * 1024
HOSTILE = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\x01\x02\x1b[2J\x7f",
    "a\r\nSet-Cookie: x=1",
    "\u202e日本",
]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # One process, so its RSS is ours; the per-address budget of /auth is raised because this
    # module sends it every kind of bad body from one address (the budget has its own tests).
    server = start_server(
        tmp_path_factory.mktemp("hostile"), settings={"OSTIARY_LOGIN_REQUEST_LIMIT": "100000"}
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hostile_factory(hostile_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(hostile_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def owner(hostile_factory: Factory) -> UserAccount:
    return hostile_factory.account("hostile")


def _rss_mb(server: ServerProcess) -> float:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _stream(server: ServerProcess, head: bytes, total: int, *, chunked: bool) -> bytes:
    """Send a request head, then up to ``total`` body bytes until the server answers; return
    what it answered. The server closes after a 413, so sending may fail: Linux keeps the
    answer readable after the reset."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        piece = b"x" * 65536
        sent = 0
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
        except OSError:
            pass
        assert sent < total, "the server read the whole body"
        answer = b""
        while True:  # the server closes after its answer
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            answer += piece
        return answer


def _head(path: str, framing: str, token: str | None = None) -> bytes:
    # Each route's own content type, so that it reads the body rather than refusing it first.
    form = path.startswith("/oauth/token")
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {'application/x-www-form-urlencoded' if form else 'application/json'}",
        f"Accept: {API_HEADERS['Accept']}",
        framing,
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/auth", "/apps", "/oauth/token"])
def test_fifty_megabytes_are_refused_with_413_and_never_read(
    hostile_server: ServerProcess, owner: UserAccount, path: str, chunked: bool
) -> None:
    before = _rss_mb(hostile_server)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {FIFTY_MB}"
    answer = _stream(hostile_server, _head(path, framing, owner.api_key), FIFTY_MB, chunked=chunked)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body["id"] == "request_entity_too_large"
    assert b"connection: close" in rest.lower()
    assert _rss_mb(hostile_server) - before < 20  # nowhere near the 50 MB sent at it
    assert httpx.get(f"{hostile_server.url}/health", timeout=10).status_code == 200


def test_a_body_just_under_the_cap_is_read(hostile_server: ServerProcess) -> None:
    body = json.dumps({"description": "x" * (1024 * 1024 - 100)})
    response = httpx.post(f"{hostile_server.url}/auth", content=body, timeout=30)
    assert response.status_code == 200


def _api(server: ServerProcess, token: str) -> httpx.Client:
    return server.client(token)


def _post_raw(api: httpx.Client, method: str, path: str, raw: bytes) -> httpx.Response:
    return api.request(method, path, content=raw, headers={"Content-Type": "application/json"})


def _body_routes(api: httpx.Client) -> list[tuple[str, str, dict[str, Any]]]:
    """Every body-taking route with a valid body whose string fields the tests replace."""
    app = api.post("/apps", json={}).json()["name"]
    client = api.post(
        "/oauth/clients", json={"name": "Victim", "redirect_uri": "https://a.example/cb"}
    ).json()
    return [
        ("POST", "/apps", {"name": "x", "region": "us", "stack": "heroku-24"}),
        ("PATCH", f"/apps/{app}", {"name": "x", "build_stack": "heroku-24"}),
        ("PATCH", f"/apps/{app}/config-vars", {"KEY": "value"}),
        ("POST", f"/apps/{app}/collaborators", {"user": "x@example.com"}),
        ("POST", f"/apps/{app}/addons", {"plan": "heroku-redis", "name": "x"}),
        ("PATCH", "/account", {"name": "x"}),
        ("POST", "/oauth/authorizations", {"description": "x", "scope": ["read"], "client": "x"}),
        ("PATCH", f"/oauth/clients/{client['id']}", {"name": "x", "redirect_uri": "x"}),
        ("POST", "/oauth/clients", {"name": "x", "redirect_uri": "https://a.example/cb"}),
        (
            "POST",
            "/oauth/tokens",
            {
                "grant": {"type": "authorization_code", "code": "x"},
                "client": {"secret": "x"},
                "refresh_token": {"token": "x"},
            },
        ),
        ("POST", "/auth", {"description": "x"}),
    ]


def _with_value(body: Any, value: str) -> Iterator[Any]:
    """``body`` with each of its strings (keys of a config map too), one at a time, replaced."""
    if isinstance(body, str):
        yield value
    elif isinstance(body, list):
        for index, item in enumerate(body):
            for replaced in _with_value(item, value):
                yield [*body[:index], replaced, *body[index + 1 :]]
    elif isinstance(body, dict):
        for key, item in body.items():
            for replaced in _with_value(item, value):
                yield {**body, key: replaced}
        if all(key.isupper() for key in body):  # config vars: the names are input too
            yield {value: "v"}


def test_nul_and_control_characters_in_every_string_field(
    hostile_server: ServerProcess, owner: UserAccount
) -> None:
    with _api(hostile_server, owner.api_key) as api:
        for method, path, body in _body_routes(api):
            for value in HOSTILE:
                for attempt in _with_value(body, value):
                    raw = json.dumps(attempt).encode()  # ensure_ascii: \\u0000, \\ud800
                    response = _post_raw(api, method, path, raw)
                    assert response.status_code < 500, (method, path, attempt, response.text)
                    if response.status_code >= 400 and path != "/auth":
                        assert {"id", "message"} <= response.json().keys()
        # Whatever was stored lists cleanly, Range headers included.
        for path in ("/apps", "/oauth/clients", "/oauth/authorizations"):
            for sort in ("id", "name"):
                listed = api.get(path, headers={"Range": f"{sort} ..; max=1"})
                assert listed.status_code in (200, 206, 400), (path, listed.text)
                assert listed.headers.get("content-range", "").isascii()
    assert "unhandled error" not in hostile_server.log()


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"description":' * 50_000 + b'"x"' + b"}" * 50_000,
        b'{"name": "\xff\xfe\xc3\x28"}',
        b'{"name": "a\xed\xa0\x80b"}',  # a surrogate encoded as UTF-8: not UTF-8
        b'{"name": "x"' + b" " * 1000 + b",",
    ],
    ids=["deep-array", "deep-object", "invalid-utf8", "utf8-surrogate", "truncated"],
)
def test_bodies_that_are_not_json_are_4xx_everywhere(
    hostile_server: ServerProcess, owner: UserAccount, raw: bytes
) -> None:
    with _api(hostile_server, owner.api_key) as api:
        for method, path, _ in _body_routes(api):
            response = _post_raw(api, method, path, raw)
            if path == "/auth":  # the heroku CLI's login takes an unusable body as an empty one
                assert response.status_code == 200, response.text
                continue
            assert 400 <= response.status_code < 500, (method, path, response.text)
    assert "unhandled error" not in hostile_server.log()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "a" * 1_000_000},
        {f"X-Many-{number}": "a" for number in range(5000)},
        {"Range": "name " + "a" * 100_000 + ".."},
        {"Request-Id": ",".join(["not-a-uuid"] * 20_000)},
        {"Host": "a" * 70_000},
    ],
    ids=["one-megabyte-header", "5000-headers", "huge-range", "huge-request-id", "huge-host"],
)
def test_huge_headers_get_an_answer_not_a_crash(
    hostile_server: ServerProcess, owner: UserAccount, headers: dict[str, str]
) -> None:
    sent = {**API_HEADERS, "Authorization": f"Bearer {owner.api_key}", **headers}
    try:
        response = httpx.get(f"{hostile_server.url}/apps", headers=sent, timeout=30)
        assert response.status_code < 500, response.text[:300]
    except httpx.RemoteProtocolError:
        pass  # the HTTP layer may drop such a request outright; it must keep serving
    assert httpx.get(f"{hostile_server.url}/health", timeout=10).status_code == 200


def test_hundreds_of_half_open_connections_do_not_block_a_real_request(
    hostile_server: ServerProcess, owner: UserAccount
) -> None:
    stalled: list[socket.socket] = []
    try:
        for number in range(300):
            sock = socket.create_connection(("127.0.0.1", hostile_server.port), timeout=10)
            # Half a request: a head that never ends, or a body that never comes.
            if number % 2:
                sock.sendall(b"GET /account HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            else:
                sock.sendall(
                    b"POST /apps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"
                )
            stalled.append(sock)
        with _api(hostile_server, owner.api_key) as api:
            for _ in range(5):
                assert api.get("/account").status_code == 200
    finally:
        for sock in stalled:
            sock.close()
    assert hostile_server.process is not None
    assert hostile_server.process.poll() is None


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (the server's workers), in KiB."""
    total = 0
    for candidate in [pid, *_children(pid)]:
        for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_a_request_head_that_never_ends_is_refused_without_growing_the_server(
    hostile_server: ServerProcess,
) -> None:
    assert hostile_server.process is not None
    before = _rss_kib(hostile_server.process.pid)
    with socket.create_connection(("127.0.0.1", hostile_server.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 50_000_000:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass  # the server closed the connection: what it should do
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 431"), answer
    assert sent < 50_000_000  # refused long before the 50 MB were sent
    grown = _rss_kib(hostile_server.process.pid) - before
    assert grown < 20_000, f"the server grew by {grown} KiB"
    assert httpx.get(f"{hostile_server.url}/health", timeout=10).status_code == 200
