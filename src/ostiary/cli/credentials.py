"""Where the command line keeps its token, per API host, in the order it looks:

1. ``OSTIARY_API_KEY`` (or ``HEROKU_API_KEY``) in the environment;
2. the OS keyring, when ``keyring`` finds a real one (a plain-file keyrings.alt backend only when
   chosen on purpose);
3. ``~/.netrc``, ``machine <api host>``, in the heroku CLI's format, created 0600. A netrc that
   its group or others can read is refused, with the command that fixes it.

Login saves to the keyring when there is one, else to the netrc (saying so in one line).
"""

from __future__ import annotations

import contextlib
import netrc
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ostiary.client.errors import ClientError
from ostiary.files import write_private

ENV_VARIABLES = ("OSTIARY_API_KEY", "HEROKU_API_KEY")
KEYRING_SERVICE = "ostiary"


@dataclass(frozen=True, slots=True)
class Credential:
    """A token, and where it came from."""

    token: str
    source: str  # "environment", "keyring" or "netrc"
    login: str | None = None

    @property
    def where(self) -> str:
        """The source, as a person reads it."""
        if self.source == "environment":
            variable = next((v for v in ENV_VARIABLES if os.environ.get(v)), ENV_VARIABLES[0])
            return f"the environment ({variable})"
        if self.source == "keyring":
            return "the OS keyring"
        return f"the netrc ({netrc_path()})"


def netrc_path() -> Path:
    """The netrc file of the user running the command."""
    return Path.home() / ".netrc"


def api_host(api_url: str) -> str:
    """The netrc machine name for an API URL: its host, as the heroku CLI writes it."""
    return httpx.URL(api_url).host


def _checked_netrc(path: Path) -> Path | None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ClientError(
            f"{path} can be read by other users, so it is not used. Fix it with: chmod 600 {path}"
        )
    return path


def _read_netrc() -> dict[str, tuple[str, str | None, str]]:
    path = _checked_netrc(netrc_path())
    if path is None:
        return {}
    try:
        parsed = netrc.netrc(str(path))
    except netrc.NetrcParseError as error:
        raise ClientError(f"{path} cannot be parsed: {error}") from error
    return dict(parsed.hosts)


def _write_netrc(machines: dict[str, tuple[str, str | None, str]]) -> Path:
    path = netrc_path()
    lines = []
    for host, (login, account, password) in machines.items():
        lines.append(f"machine {host}")
        lines.append(f"  login {login}")
        if account:
            lines.append(f"  account {account}")
        lines.append(f"  password {password}")
    write_private(path, ("\n".join(lines) + "\n").encode())
    return path


def _keyring() -> Any | None:
    """The OS keyring, or None. keyrings.alt's backends keep secrets in plain files in the home
    directory; they count only when chosen on purpose (PYTHON_KEYRING_BACKEND or keyring's own
    configuration file), never because a test tool pulled the package in."""
    try:
        import keyring
        import keyring.core
    except ImportError:
        return None
    backend = keyring.get_keyring()
    chosen = os.environ.get("PYTHON_KEYRING_BACKEND") or keyring.core.load_config()
    if type(backend).__module__.startswith("keyrings.alt") and not chosen:
        return None
    return keyring


def _keyring_get(api_url: str) -> str | None:
    store = _keyring()
    if store is None:
        return None
    from keyring.errors import KeyringError

    try:
        value = store.get_password(KEYRING_SERVICE, api_url)
    except KeyringError:
        return None
    return str(value) if value is not None else None


def find_credential(api_url: str) -> Credential | None:
    """The token to use for ``api_url``, or None when the user is not logged in."""
    for variable in ENV_VARIABLES:
        if os.environ.get(variable):
            return Credential(os.environ[variable], "environment")
    token = _keyring_get(api_url)
    if token is not None:
        return Credential(token, "keyring")
    entry = _read_netrc().get(api_host(api_url))
    if entry is not None:
        return Credential(entry[2], "netrc", entry[0])
    return None


def save_credential(api_url: str, login: str, token: str) -> Credential:
    """Keep the token for ``api_url``: in the keyring when there is one, else in the netrc.
    Answers the credential as saved (its ``source`` says where it went)."""
    store = _keyring()
    if store is not None:
        from keyring.errors import KeyringError

        try:
            store.set_password(KEYRING_SERVICE, api_url, token)
        except KeyringError:
            pass
        else:
            return Credential(token, "keyring", login)
    machines = _read_netrc()
    machines[api_host(api_url)] = (login, None, token)
    _write_netrc(machines)
    return Credential(token, "netrc", login)


def forget_credential(api_url: str) -> None:
    """Remove the saved token for ``api_url`` from the keyring and the netrc."""
    store = _keyring()
    if store is not None:
        from keyring.errors import KeyringError, PasswordDeleteError

        with contextlib.suppress(KeyringError, PasswordDeleteError):
            store.delete_password(KEYRING_SERVICE, api_url)
    machines = _read_netrc()
    if machines.pop(api_host(api_url), None) is not None:
        _write_netrc(machines)
