"""The ``ostiary`` command: one module per noun, named on one group here and imported when one
of its commands runs."""

from __future__ import annotations

import importlib

import click

from ostiary import __version__

# The module of each command, imported only when that command runs (or help lists them all).
# ``ostiary serve`` stays in memory for as long as the server runs, supervising its workers:
# importing every command's module (the client library, SQLAlchemy, Alembic, cryptography) made
# that process 87 MB where it needs 40 (docs/architecture.md, "A million tokens, and memory per
# worker"). tests/unit/cli/test_init.py checks this table against the modules' commands.
COMMAND_MODULES = {
    "serve": "server",
    "run": "server",
    "check": "check",
    "db": "db",
    "accounts": "accounts",
    "login": "auth",
    "logout": "auth",
    "auth:token": "auth",
    "auth:whoami": "auth",
    "completion": "completion",
    **dict.fromkeys(
        [
            "authorizations",
            "authorizations:create",
            "authorizations:info",
            "authorizations:update",
            "authorizations:rotate",
            "authorizations:revoke",
        ],
        "authorizations",
    ),
    **dict.fromkeys(
        [
            "clients",
            "clients:create",
            "clients:info",
            "clients:update",
            "clients:rotate",
            "clients:destroy",
        ],
        "clients",
    ),
    **dict.fromkeys(["sessions", "sessions:destroy"], "sessions"),
    **dict.fromkeys(["apps", "apps:create", "apps:info", "apps:rename", "apps:destroy"], "apps"),
    **dict.fromkeys(["config", "config:get", "config:set", "config:unset"], "config"),
    **dict.fromkeys(
        ["collaborators", "collaborators:add", "collaborators:remove"], "collaborators"
    ),
    **dict.fromkeys(["addons", "addons:create", "addons:destroy"], "addons"),
    "events": "events",
    **dict.fromkeys(["alerts", "alerts:seen", "alerts:reinstate"], "alerts"),
    **dict.fromkeys(["notifications", "notifications:update"], "notifications"),
    "audit": "audit",
    "scan": "scan",
}


def command_in(module_name: str, name: str) -> click.Command:
    """The command called ``name`` that ``ostiary.cli.<module_name>`` defines."""
    module = importlib.import_module(f"ostiary.cli.{module_name}")
    for value in vars(module).values():
        if isinstance(value, click.Command) and value.name == name:
            return value
    raise LookupError(f"ostiary.cli.{module_name} defines no command {name!r}")


class LazyGroup(click.Group):
    """A group whose commands are imported when they are asked for (:data:`COMMAND_MODULES`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted as click lists them."""
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, its module imported now; None for an unknown name."""
        module_name = COMMAND_MODULES.get(cmd_name)
        return None if module_name is None else command_in(module_name, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ostiary")
def cli() -> None:
    """Ostiary: a self-hostable API identity service, compatible with Heroku's Platform API.

    Server commands (run, serve, check, db, accounts) act on this machine's configuration;
    the others talk to an Ostiary API (--api-url or OSTIARY_API_URL).

    \b
    Example:
      ostiary run          # migrate, create a first account, serve https://localhost:5000
      ostiary login        # then: ostiary apps, ostiary config -a APP, ...
    """


def main() -> None:
    """Run the command line."""
    cli()
