"""``ostiary serve`` and ``ostiary run``: start the server.

This process supervises the workers for as long as the server runs, so it imports only what
serving needs: the database, migrations, the first account and certificate generation are
imported by the code that uses them (docs/architecture.md, "A million tokens, and memory per
worker").
"""

from __future__ import annotations

import copy
import socket
from pathlib import Path
from typing import Any

import click
import uvicorn
import uvicorn.config

from ostiary.config import Settings, load_settings
from ostiary.files import private_directory
from ostiary.net import is_loopback
from ostiary.security.server_secret import load_or_create_secret
from ostiary.web.transport import BoundedHttpToolsProtocol

FIRST_ACCOUNT_EMAIL = "admin@ostiary.test"


def _tls_files(settings: Settings, cert: Path | None, key: Path | None) -> tuple[Path, Path]:
    cert = cert or settings.tls_cert
    key = key or settings.tls_key
    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert and --tls-key go together.")
    if cert is not None and key is not None:
        return cert, key
    from ostiary.security.tls import ensure_self_signed  # cryptography: 8 MB, used once

    cert, key = settings.generated_cert_path, settings.generated_key_path
    if ensure_self_signed(cert, key):
        click.echo(f"Generated a self-signed certificate: {cert.resolve()}", err=True)
    return cert, key


def _serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    tls: tuple[Path, Path] | None,
) -> None:
    private_directory(settings.data_dir)
    load_or_create_secret(settings)  # before the workers start, so they share one secret
    if workers > 1:  # each worker counts in its own file; GET /metrics sums them
        from ostiary.metrics import prepare_multiprocess

        prepare_multiprocess(settings.data_dir / "metrics")
    _check_port_free(host, port)
    scheme = "https" if tls else "http"
    shown_host = "localhost" if is_loopback(host) else host
    click.echo(f"Ostiary is serving on {scheme}://{shown_host}:{port}", err=True)
    uvicorn.run(
        "ostiary.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=BoundedHttpToolsProtocol,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        # create_app has its own ProxyHeadersMiddleware, trusting OSTIARY_TRUSTED_PROXIES only.
        proxy_headers=False,
        server_header=False,
        access_log=False,  # uvicorn's access log would print query strings; ours does not
        ws="none",  # no WebSocket route: its protocol module is not imported in each worker
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
    )


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration, with Ostiary's own loggers (``ostiary.*``) printed by
    the same handler at ``level`` (without it Python would print their warnings bare and drop
    everything below), and without uvicorn's access log.

    uvicorn's access lines print the path with its query string (where a client may have put a
    token); Ostiary's own access log (``web.access_log``, ``OSTIARY_ACCESS_LOG``) replaces them.
    Its logger is left with no handler and does not propagate, whatever ``access_log=`` says.
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"].pop("access", None)
    config["formatters"].pop("access", None)
    config["loggers"]["uvicorn.access"] = {"handlers": [], "propagate": False}
    config["loggers"]["ostiary"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def _check_port_free(host: str, port: int) -> None:
    """Fail before saying "serving" when another program holds the port (uvicorn would print
    its own error only after our banner)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"Cannot listen on {host}:{port}: {error.strerror}. Another program may be "
                "using the port: choose another with --port or OSTIARY_PORT "
                "(for `make run`: OSTIARY_PORT=5001 make run)."
            ) from error


def _check_insecure(host: str) -> None:
    if not is_loopback(host):
        raise click.UsageError(
            f"--insecure-http is only allowed on a loopback address, not {host!r}: "
            "plain HTTP would expose tokens on the network."
        )
    click.echo(
        "WARNING: serving plain HTTP. Use this only for local tests and benchmarks.", err=True
    )


@click.command()
@click.option("--host", help="Address to listen on [default: OSTIARY_HOST or 127.0.0.1].")
@click.option("--port", type=int, help="Port [default: OSTIARY_PORT or 5000].")
@click.option("--workers", type=int, help="Worker processes [default: OSTIARY_WORKERS or 1].")
@click.option("--tls-cert", type=click.Path(exists=True, path_type=Path), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, path_type=Path), help="PEM private key.")
@click.option("--insecure-http", is_flag=True, help="Serve plain HTTP (loopback only).")
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    insecure_http: bool,
) -> None:
    """Serve the API over HTTPS (a self-signed certificate is generated when none is given).

    \b
    Example:
      ostiary serve --port 5000
      ostiary serve --host 127.0.0.1 --port 8080 --insecure-http
    """
    settings = load_settings()
    private_directory(settings.data_dir)  # before the TLS files are generated into it
    bind = host or settings.host
    if insecure_http:
        if tls_cert or tls_key:
            raise click.UsageError("--insecure-http cannot be combined with --tls-cert/--tls-key.")
        _check_insecure(bind)
        tls = None
    else:
        tls = _tls_files(settings, tls_cert, tls_key)
    _serve(
        settings,
        bind,
        port if port is not None else settings.port,
        workers or settings.workers,
        tls,
    )


@click.command()
def run() -> None:
    """Migrate, create a first account when there is none, and serve (what `make run` does).

    \b
    Example:
      ostiary run
    """
    from ostiary.accounts.queries import any_account_exists
    from ostiary.accounts.rules import generate_password
    from ostiary.cli.accounts import create_account_now
    from ostiary.db import Database
    from ostiary.migrate import upgrade

    settings = load_settings()
    private_directory(settings.data_dir)
    upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        with database.unit_of_work(write=False) as session:
            fresh = not any_account_exists(session)
    finally:
        database.dispose()
    tls = _tls_files(settings, None, None)
    url = f"https://localhost:{settings.port}"
    if fresh:
        password = generate_password(FIRST_ACCOUNT_EMAIL)
        created = create_account_now(settings, FIRST_ACCOUNT_EMAIL, password, "Administrator")
        key = created.api_key.plaintext
        click.echo(
            "\nA first account was created (shown once, keep it safe):\n"
            f"  email:    {created.account.email}\n"
            f"  password: {password}\n"
            f"  API key:  {key}\n"
        )
    else:
        key = "$OSTIARY_API_KEY"
        click.echo(
            "\nExisting accounts kept; use your API key (`ostiary accounts create` adds one)."
        )
    click.echo(
        f"Open {url}/dashboard and log in (certificate: {tls[0].resolve()}). Or try:\n"
        f"  curl --cacert {tls[0]} {url}/account \\\n"
        '    -H "Accept: application/vnd.heroku+json; version=3" \\\n'
        f'    -H "Authorization: Bearer {key}"\n'
        "Or with the command line (in .venv/bin; `source .venv/bin/activate` puts it on PATH):\n"
        f"  export OSTIARY_API_URL={url} OSTIARY_CA_BUNDLE={tls[0].resolve()}\n"
        "  .venv/bin/ostiary login\n"
        "Lost the password? `.venv/bin/ostiary accounts set-password EMAIL` sets a new one.\n"
    )
    _serve(settings, settings.host, settings.port, settings.workers, tls)
