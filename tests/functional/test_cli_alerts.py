"""``ostiary alerts`` against a real server: a dormant credential's alert suspends it under the
owner's policy; the command lists it, marks it seen, and reinstates the credential, after which
its token works again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from ostiary.clock import utcnow
from ostiary.tokens.models import Authorization
from tests.support.factories import Factory, UserAccount
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.server import ServerProcess


def test_the_cli_lists_marks_seen_and_reinstates(
    server: ServerProcess, factory: Factory, tmp_path: Path
) -> None:
    owner: UserAccount = factory.account()
    authorization_id, token = factory.token(owner, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.id == authorization_id)
            .values(last_used_at=utcnow() - timedelta(days=40))
        )
    with server.client(owner.api_key) as client:
        assert client.patch(
            "/account/alert-policy", json={"suspend_on": ["dormant-use"]}
        ).is_success
    with server.client(token) as client:
        # The request that reveals the dormancy raises the alert, and is refused already.
        assert client.get("/account").status_code == 401
    home = tmp_path / "home"
    home.mkdir()
    cli = OstiaryCLI(server, home)

    table = cli.run("alerts", "--unseen", api_key=owner.api_key)
    assert table.returncode == 0, table.stderr
    assert "dormant-use (suspended)" in table.stdout
    assert "was used after 40 days unused" in table.stdout
    [alert] = json.loads(cli.run("alerts", "--json", api_key=owner.api_key).stdout)
    assert alert["authorization"] == {"id": authorization_id}

    marked = cli.run("alerts:seen", alert["id"], api_key=owner.api_key)
    assert marked.returncode == 0, marked.stderr
    assert "Marked 1 alert seen." in marked.stdout
    assert "No unseen alerts." in cli.run("alerts", "--unseen", api_key=owner.api_key).stdout

    # The suspended credential cannot lift its own suspension; the API key can.
    refused = cli.run("alerts:reinstate", authorization_id, api_key=token)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    lifted = cli.run("alerts:reinstate", authorization_id, api_key=owner.api_key)
    assert lifted.returncode == 0, lifted.stderr
    assert f"Reinstated {authorization_id}" in lifted.stdout
    with server.client(token) as client:
        assert client.get("/account").status_code == 200


def test_another_accounts_alert_cannot_be_marked_seen(
    server: ServerProcess, factory: Factory, tmp_path: Path
) -> None:
    owner, other = factory.account(), factory.account()
    authorization_id, token = factory.token(owner, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.id == authorization_id)
            .values(last_used_at=utcnow() - timedelta(days=40))
        )
    with server.client(token) as client:
        assert client.get("/account").status_code == 200
    home = tmp_path / "home"
    home.mkdir()
    cli = OstiaryCLI(server, home)
    [alert] = json.loads(cli.run("alerts", "--json", api_key=owner.api_key).stdout)
    theirs = cli.run("alerts:seen", alert["id"], api_key=other.api_key)
    assert theirs.returncode == 1
    assert "Couldn't find that alert." in theirs.stderr
    assert json.loads(cli.run("alerts", "--json", api_key=other.api_key).stdout) == []
    [still] = json.loads(cli.run("alerts", "--json", api_key=owner.api_key).stdout)
    assert still["seen_at"] is None
