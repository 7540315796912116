"""Passkeys in headless Chromium with the DevTools virtual authenticator (a platform
authenticator with resident keys and user verification, WebAuthn L2): register two from the
dashboard, rename one, remove the other; sign in with a passkey alone, no email typed. The page
is http://localhost (a secure context, the RP id a domain)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.passkeys.models import Passkey
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def passkey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("passkeys-e2e"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def factory(passkey_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(passkey_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def user(factory: Factory) -> UserAccount:
    return factory.account("passkey-e2e")


def _base(server: ServerProcess) -> str:
    # localhost, not 127.0.0.1: an RP id must be a domain.
    return f"http://localhost:{server.port}"


class VirtualAuthenticators:
    """The DevTools WebAuthn domain of one page."""

    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")

    def add(self) -> str:
        """A new platform authenticator with resident keys that verifies its user."""
        added = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        authenticator_id: str = added["authenticatorId"]
        return authenticator_id

    def remove(self, authenticator_id: str) -> None:
        """Take an authenticator away (as if the device were elsewhere)."""
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})

    def credentials(self, authenticator_id: str) -> list[dict[str, Any]]:
        """The credentials an authenticator holds."""
        held: list[dict[str, Any]] = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": authenticator_id}
        )["credentials"]
        return held


def _log_in_with_password(page: Any, server: ServerProcess, email: str) -> None:
    page.goto(f"{_base(server)}/dashboard/passkeys")
    page.wait_for_url("**/login?**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/passkeys")


def _add_passkey(page: Any, name: str, expected_rows: int) -> None:
    page.fill("#passkey-name", name)
    page.click("#add-passkey")
    page.locator("tr[data-passkey]").nth(expected_rows - 1).wait_for()
    assert page.locator("tr[data-passkey]").count() == expected_rows
    assert page.is_hidden("#passkey-error")


def _names(page: Any) -> list[str]:
    names: list[str] = page.eval_on_selector_all(
        "tr[data-passkey] input[name=name]", "inputs => inputs.map(i => i.value)"
    )
    return names


def _row(page: Any, name: str) -> Any:
    """The table row of the passkey named ``name`` (as the page was served)."""
    return page.locator("tr[data-passkey]").filter(has=page.locator(f"input[value='{name}']"))


def _actions(factory: Factory, account_id: str) -> list[tuple[str, object]]:
    with factory.database.unit_of_work(write=False) as session:
        events = session.scalars(
            select(Event)
            .where(Event.actor_id == account_id, Event.action.like("account:%"))
            .where(Event.action != "account:create")
        )
        # Sorted: timestamps have whole seconds, and these happen within a few.
        return sorted((event.action, (event.details or {}).get("kind", "")) for event in events)


def test_register_two_rename_one_remove_the_other(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount, page: Any
) -> None:
    authenticators = VirtualAuthenticators(page)
    laptop = authenticators.add()
    _log_in_with_password(page, passkey_server, user.email)
    _add_passkey(page, "Laptop", 1)
    assert len(authenticators.credentials(laptop)) == 1
    assert authenticators.credentials(laptop)[0]["isResidentCredential"] is True
    # The laptop again is refused by the browser (excluded): the page says so.
    page.fill("#passkey-name", "Laptop again")
    page.click("#add-passkey")
    page.wait_for_selector("#passkey-error:not([hidden])")
    assert "already holds a passkey" in page.text_content("#passkey-error")
    # A second device.
    authenticators.remove(laptop)
    phone = authenticators.add()
    page.reload()
    _add_passkey(page, "Phone", 2)
    assert len(authenticators.credentials(phone)) == 1
    assert _names(page) == ["Laptop", "Phone"]

    _row(page, "Laptop").locator("input[name=name]").fill("Work laptop")
    _row(page, "Laptop").locator("button:has-text('Rename')").click()
    page.wait_for_selector(".flash:has-text('Renamed')")
    assert sorted(_names(page)) == ["Phone", "Work laptop"]

    _row(page, "Phone").locator("button:has-text('Remove')").click()
    page.wait_for_selector(".flash:has-text('Passkey removed')")
    assert _names(page) == ["Work laptop"]
    with factory.database.unit_of_work(write=False) as session:
        names = session.scalars(select(Passkey.name).where(Passkey.account_id == user.id)).all()
    assert names == ["Work laptop"]
    assert _actions(factory, user.id) == [
        ("account:passkey:rename", ""),
        ("account:second-factor:add", "passkey"),
        ("account:second-factor:add", "passkey"),
        ("account:second-factor:remove", "passkey"),
    ]
    assert page.console_errors == []


def test_sign_in_with_a_passkey_alone(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount, page: Any
) -> None:
    authenticators = VirtualAuthenticators(page)
    authenticators.add()
    _log_in_with_password(page, passkey_server, user.email)
    _add_passkey(page, "Laptop", 1)
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")

    page.goto(f"{_base(passkey_server)}/dashboard/tokens")
    page.wait_for_url("**/login?next=%2Fdashboard%2Ftokens")
    page.click("text=Sign in with a passkey")  # no email, no password
    page.wait_for_url("**/dashboard/tokens")
    assert user.email in page.text_content(".who")
    with factory.database.unit_of_work(write=False) as session:
        signed_in = session.scalars(
            select(Event.action).where(
                Event.actor_id == user.id, Event.action == "auth:passkey:success"
            )
        ).all()
    assert signed_in == ["auth:passkey:success"]
    assert page.console_errors == []


def test_an_unknown_passkey_is_refused_on_the_page(
    passkey_server: ServerProcess, page: Any
) -> None:
    authenticators = VirtualAuthenticators(page)
    stranger = authenticators.add()
    # A resident credential for this RP id that the server never registered.
    authenticators.cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": stranger,
            "credential": {
                "credentialId": "c3RyYW5nZXI=",
                "isResidentCredential": True,
                "rpId": "localhost",
                "userHandle": "dXNlcg==",
                "privateKey": _private_key_pkcs8(),
                "signCount": 0,
            },
        },
    )
    page.goto(f"{_base(passkey_server)}/login")
    page.click("text=Sign in with a passkey")
    page.wait_for_selector("#passkey-error:not([hidden])")
    assert "not registered" in page.text_content("#passkey-error")
    assert "/login" in page.url


def _private_key_pkcs8() -> str:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode()


def test_password_then_a_passkey_as_the_second_factor(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount, page: Any
) -> None:
    authenticators = VirtualAuthenticators(page)
    authenticators.add()
    _log_in_with_password(page, passkey_server, user.email)
    _add_passkey(page, "Laptop", 1)
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")

    page.goto(f"{_base(passkey_server)}/dashboard/sessions")
    page.wait_for_url("**/login?next=%2Fdashboard%2Fsessions")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/second-factor")
    assert page.locator("#code").count() == 0  # a passkey, no authenticator app
    page.click("text=Use a passkey")
    page.wait_for_url("**/dashboard/sessions")
    assert "Browser login (passkey)" in page.text_content("main")
    with factory.database.unit_of_work(write=False) as session:
        kinds = session.scalars(
            select(Event.details).where(
                Event.actor_id == user.id, Event.action == "auth:second-factor:success"
            )
        ).all()
    assert kinds == [{"kind": "passkey"}]
    assert page.console_errors == []


def test_a_passkey_confirms_it_is_you_instead_of_the_password(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount, page: Any
) -> None:
    authenticators = VirtualAuthenticators(page)
    authenticators.add()
    _log_in_with_password(page, passkey_server, user.email)
    _add_passkey(page, "Laptop", 1)
    # The password was proved more than five minutes ago.
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == user.id)
            .values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    page.goto(f"{_base(passkey_server)}/dashboard/api-key")
    assert page.is_visible("#reveal-password")
    page.locator("button:has-text('Or use a passkey')").first.click()
    page.locator("[data-passkey-confirmed]").first.wait_for()
    assert page.is_hidden("#reveal-password")
    page.click("button:has-text('Reveal')")
    page.wait_for_selector("#revealed-key")
    with factory.database.unit_of_work(write=False) as session:
        confirmed = session.scalars(
            select(Event.details).where(
                Event.actor_id == user.id, Event.action == "auth:reauthentication:success"
            )
        ).all()
    assert confirmed == [{"kind": "passkey"}]
    assert page.console_errors == []
