"""What the client-side commands share: the API URL and CA bundle options, the saved
credential, ``--json`` or table output, and errors as one line with exit code 1."""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

import click
from rich.console import Console
from rich.table import Table

from ostiary.cli.credentials import find_credential
from ostiary.client import Client, ClientError, UntrustedCertificate
from ostiary.client.expiry import ExpiringToken
from ostiary.client.models import Json
from ostiary.durations import parse_duration

DEFAULT_API_URL = "https://localhost:5000"

P = ParamSpec("P")
R = TypeVar("R")


class ApiTarget:
    """The server a command talks to, from ``--api-url`` / ``OSTIARY_API_URL`` and
    ``--ca-bundle`` / ``OSTIARY_CA_BUNDLE``."""

    def __init__(self, api_url: str, ca_bundle: str | None) -> None:
        self.api_url = api_url.rstrip("/")
        self.verify: bool | str = ca_bundle or True
        self._expiry_told = False

    def tell_expiry(self, expiring: ExpiringToken) -> None:
        """Warn on stderr, once per command, that the saved token expires within 7 days."""
        if not self._expiry_told:
            self._expiry_told = True
            click.echo(f"Warning: {expiring.message}", err=True)

    def client(self, *, authenticated: bool = True) -> Client:
        """A client with the saved credential (or none, for logging in)."""
        token = None
        if authenticated:
            credential = find_credential(self.api_url)
            if credential is None:
                raise ClientError(
                    f"Not logged in to {self.api_url}: run `ostiary login` or set OSTIARY_API_KEY."
                )
            token = credential.token
        return Client(self.api_url, token=token, verify=self.verify, on_expiring=self.tell_expiry)


def api_command(function: Callable[P, R]) -> Callable[..., R]:
    """Give a command ``--api-url`` and ``--ca-bundle`` (passed as ``target``) and turn client
    errors into one line on stderr and exit code 1."""

    @click.option(
        "--api-url",
        envvar="OSTIARY_API_URL",
        default=DEFAULT_API_URL,
        show_default=True,
        help="The Ostiary API [env: OSTIARY_API_URL].",
    )
    @click.option(
        "--ca-bundle",
        envvar="OSTIARY_CA_BUNDLE",
        type=click.Path(exists=True, dir_okay=False),
        help="CA certificate(s) to trust, e.g. the one `ostiary run` generated "
        "[env: OSTIARY_CA_BUNDLE].",
    )
    @functools.wraps(function)
    def wrapper(*args: Any, api_url: str, ca_bundle: str | None, **kwargs: Any) -> R:
        try:
            return function(*args, target=ApiTarget(api_url, ca_bundle), **kwargs)  # type: ignore[arg-type]
        except UntrustedCertificate as error:
            raise click.ClickException(
                f"{error} The server's certificate is not trusted: pass --ca-bundle "
                "var/tls/cert.pem (the certificate `ostiary run` generated) or set "
                "OSTIARY_CA_BUNDLE."
            ) from error
        except ClientError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")


def print_json(data: Any) -> None:
    """JSON on stdout, for scripts."""
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> None:
    """A table on stdout, or ``empty`` (what to do next) when there are no rows."""
    table = Table(*columns, box=None, header_style="bold", pad_edge=False)
    count = 0
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
        count += 1
    if count == 0:
        click.echo(empty)
        return
    # Piped output is never cut to a terminal's width: scripts and tests read whole ids.
    Console(width=None if sys.stdout.isatty() else 10_000).print(table)


def print_record(fields: Sequence[tuple[str, Any]]) -> None:
    """One resource as aligned ``name: value`` lines."""
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else value)
        click.echo(f"{name + ':':<{width + 1}} {shown}")


class _Listed(Protocol):
    @property
    def raw(self) -> Json: ...


L = TypeVar("L", bound=_Listed)


def print_listing(
    as_json: bool,
    items: Sequence[L],
    columns: Sequence[str],
    row: Callable[[L], Sequence[Any]],
    empty: str,
) -> None:
    """A list command's output: the items' JSON, or a table with a row per item."""
    output(
        as_json,
        [item.raw for item in items],
        lambda: print_table(columns, [row(item) for item in items], empty),
    )


def output(as_json: bool, raw: Json | list[Json], human: Callable[[], None]) -> None:
    """``--json``: the raw JSON; otherwise the human form."""
    if as_json:
        print_json(raw)
    else:
        human()


APP_HELP = "The app [env: OSTIARY_APP]."
app_option = click.option("-a", "--app", required=True, envvar="OSTIARY_APP", help=APP_HELP)


def resolve_app(positional: str | None, option: str | None) -> str:
    """The app a command acts on: ``-a/--app`` (the ``app_name`` parameter) as heroku's
    commands take it, or the app as the first argument where the command took it so before.
    Two different explicit apps are a usage error; OSTIARY_APP gives way to the argument."""
    source = click.get_current_context().get_parameter_source("app_name")
    from_environment = source is click.core.ParameterSource.ENVIRONMENT
    if positional and option and positional != option and not from_environment:
        raise click.UsageError(f"Two different apps named: {positional} and -a {option}.")
    app = positional or option
    if not app:
        raise click.UsageError("Name the app with -a APP (or set OSTIARY_APP).")
    return app


def app_argument_or_option(function: Callable[P, R]) -> Callable[..., R]:
    """Give a command an optional ``[APP]`` argument and ``-a/--app`` (passed as ``app``)."""

    @click.argument("app_argument", metavar="[APP]", required=False)
    @click.option("-a", "--app", "app_name", envvar="OSTIARY_APP", help=APP_HELP)
    @functools.wraps(function)
    def wrapper(*args: Any, app_argument: str | None, app_name: str | None, **kwargs: Any) -> R:
        return function(*args, app=resolve_app(app_argument, app_name), **kwargs)  # type: ignore[arg-type]

    return wrapper


def days_left(seconds: int) -> str:
    """A lifetime in whole days, rounded up: a 30-day token is "30 days" for its whole first
    day, not "29 days" a minute after it was made."""
    days = max(1, math.ceil(seconds / 86400))
    return f"{days} day" if days == 1 else f"{days} days"


def split_scopes(values: Sequence[str]) -> list[str]:
    """Scopes from repeated options, each comma- or space-separated (``-s read,write -s x``)."""
    return [part for value in values for part in value.replace(",", " ").split()]


MAX_GRACE_PERIOD = 7 * 86400  # the server's limit too (ostiary.security.grace)


def _grace_seconds(ctx: click.Context, param: click.Parameter, value: str | None) -> int:
    """``--grace-period``: a duration (``3600``, ``90s``, ``1h``, ``7d``) of at most 7 days."""
    if value is None:
        return 0
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    if seconds > MAX_GRACE_PERIOD:
        raise click.BadParameter("a grace period is at most 7 days (7d)")
    return seconds


grace_period_option = click.option(
    "-g",
    "--grace-period",
    "grace_period",
    callback=_grace_seconds,
    metavar="DURATION",
    help="Keep the old credential working this long (30s, 1h, 7d; at most 7 days).",
)
"""The option of the rotate commands, passed to the command as seconds (0: none)."""
