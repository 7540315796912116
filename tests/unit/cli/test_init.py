"""Every command explains itself: help with an example, and --json wherever data is printed."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from ostiary.cli import cli

SERVER_SIDE = {"serve", "run", "db", "accounts", "completion"}
PRINTS_NOTHING_BUT_MESSAGES = {"login", "logout", "auth:token"}


def _commands() -> list[str]:
    return sorted(cli.commands)


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable command's words, e.g. ("db", "upgrade")."""
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
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
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    assert "--json" in [opt for param in command.params for opt in param.opts], name
