"""Every command explains itself: help with an example, and --json wherever data is printed; and
each is found where the group says its module is (the group imports it only then)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import ostiary.cli
from ostiary.cli import COMMAND_MODULES, cli

SERVER_SIDE = {"serve", "run", "db", "accounts", "completion", "audit"}
PRINTS_NOTHING_BUT_MESSAGES = {"login", "logout", "auth:token"}


def _commands() -> list[str]:
    return cli.list_commands(click.Context(cli))


def _command(group: click.Group, name: str) -> click.Command:
    command = group.get_command(click.Context(group), name)
    assert command is not None, name
    return command


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable command's words, e.g. ("db", "upgrade")."""
    found: list[tuple[str, ...]] = []
    for name in group.list_commands(click.Context(group)):
        command = _command(group, name)
        if isinstance(command, click.Group):
            found += _leaves(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("words", _leaves(cli), ids=" ".join)
def test_help_has_an_example(words: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*words, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.parametrize(
    "name", [n for n in _commands() if n not in SERVER_SIDE | PRINTS_NOTHING_BUT_MESSAGES]
)
def test_data_commands_take_json(name: str) -> None:
    command = _command(cli, name)
    assert "--json" in [opt for param in command.params for opt in param.opts], name


def test_the_group_names_every_command_the_modules_define() -> None:
    defined: set[str] = set()
    subcommands: set[str] = set()
    for module in pkgutil.iter_modules(ostiary.cli.__path__):
        values = vars(importlib.import_module(f"ostiary.cli.{module.name}")).values()
        for value in values:
            if isinstance(value, click.Command):
                defined.add(value.name or "")
            if isinstance(value, click.Group):
                subcommands |= set(value.commands)
    assert set(COMMAND_MODULES) == defined - subcommands
    for name, module_name in COMMAND_MODULES.items():
        assert _command(cli, name).callback.__module__ == f"ostiary.cli.{module_name}"


def test_an_unknown_command_is_refused_with_usage() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.output


def test_serving_imports_neither_the_client_library_nor_the_database_layer() -> None:
    # `ostiary serve` supervises the workers for as long as the server runs: what it imports
    # stays in its memory all that time.
    probe = (
        "import sys, click\n"
        "from ostiary.cli import cli\n"
        "cli.get_command(click.Context(cli), 'serve')\n"
        "heavy = ('sqlalchemy', 'alembic', 'cryptography', 'httpx', 'ostiary.client', 'fastapi')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
