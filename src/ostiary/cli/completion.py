"""``ostiary completion SHELL``: the shell completion script, from click's own support."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(context: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    Example:
      eval "$(ostiary completion bash)"    # in ~/.bashrc
    """
    completion_class = get_completion_class(shell)
    assert completion_class is not None
    root = context.find_root().command
    click.echo(completion_class(root, {}, "ostiary", "_OSTIARY_COMPLETE").source())
