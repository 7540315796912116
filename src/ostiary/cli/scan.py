"""``scan``: find Ostiary tokens in files, standard input or every commit of a git repository,
print where each is (redacted), and with ``--revoke`` report them to the server, which revokes
the live ones (``POST /leaks``). A look-alike whose checksum is wrong is not a token and is
never printed. Exits 1 when it found a token, so it can fail a pre-commit hook or a CI step
(``.pre-commit-hooks.yaml``, docs/leaks.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from ostiary.cli.api import ApiTarget, api_command, json_option, print_json
from ostiary.leaks.history import COMMIT_MARKER, scan_git_log
from ostiary.leaks.records import FoundToken
from ostiary.leaks.rules import scan_text
from ostiary.security.tokens import TokenKind, token_kind

# Larger files are skipped (said on stderr): tokens live in configuration and source, not in
# the build artefacts and media a directory walk also meets.
MAX_FILE_BYTES = 20 * 1024 * 1024
SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn"})
KIND_NAMES = {
    TokenKind.API_KEY: "API key",
    TokenKind.AUTHORIZATION: "authorization token",
    TokenKind.OAUTH_ACCESS: "OAuth access token",
    TokenKind.OAUTH_REFRESH: "OAuth refresh token",
    TokenKind.CLIENT_SECRET: "OAuth client secret",
    TokenKind.GRANT_CODE: "authorization code",
}


class ScanFailed(click.ClickException):
    """The scan could not be done (git missing or failing): exit 2, so that 1 always means
    "a token was found"."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Finding:
    """A token found, and where: a file (``-`` for standard input) and line, and the commit
    when found in history."""

    path: str
    line: int
    token: str
    commit: str | None = None

    @property
    def location(self) -> str:
        """``path:line``, or ``commit:path:line`` in history."""
        where = f"{self.path}:{self.line}"
        return f"{self.commit[:12]}:{where}" if self.commit else where

    @property
    def kind(self) -> str:
        """What kind of token it is, in words."""
        kind = token_kind(self.token)
        return KIND_NAMES[kind] if kind is not None else "token"

    @property
    def redacted(self) -> str:
        """The token as it may be printed."""
        return FoundToken(self.token, self.line).redacted

    def as_json(self) -> dict[str, object]:
        """The finding for ``--json``, the token redacted."""
        return {
            "path": self.path,
            "line": self.line,
            "commit": self.commit,
            "kind": self.kind,
            "token": self.redacted,
        }


def _files(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    for root, directories, names in os.walk(path):
        directories[:] = sorted(d for d in directories if d not in SKIPPED_DIRECTORIES)
        for name in sorted(names):
            yield Path(root) / name


def _read_text(path: Path) -> str | None:
    """A file's text, or None for one that is too large, binary or unreadable."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            click.echo(f"Skipped {path}: larger than {MAX_FILE_BYTES} bytes.", err=True)
            return None
        data = path.read_bytes()
    except OSError as error:
        click.echo(f"Skipped {path}: {error.strerror}.", err=True)
        return None
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def scan_paths(paths: tuple[str, ...]) -> Iterator[Finding]:
    """The tokens in files and directories (walked), and in standard input for ``-``."""
    for name in paths:
        if name == "-":
            for found in scan_text(sys.stdin.read()):
                yield Finding("-", found.line, found.token)
            continue
        for file in _files(Path(name)):
            text = _read_text(file)
            for found in scan_text(text or ""):
                yield Finding(str(file), found.line, found.token)


def scan_history(repository: str) -> Iterator[Finding]:
    """The tokens every commit of the repository added, on every branch and tag (``--all``)."""
    command = [
        "git",
        "-C",
        repository,
        "log",
        "-p",
        "--all",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        f"--format={COMMIT_MARKER}%H",
    ]
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as error:
        raise ScanFailed(f"Cannot run git: {error.strerror}.") from error
    assert process.stdout is not None
    with process:
        for found in scan_git_log(process.stdout):
            yield Finding(found.path, found.line, found.token, commit=found.commit)
        complaint = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise ScanFailed(f"git log failed in {repository}: {complaint.strip()}")


def report(target: ApiTarget, findings: list[Finding]) -> int:
    """Report each distinct token once to the server's ``POST /leaks`` (no credential needed:
    a live one is revoked and its owner told where it was found); how many were reported."""
    first: dict[str, Finding] = {}
    for finding in findings:
        first.setdefault(finding.token, finding)
    with target.client(authenticated=False) as api:
        for token, finding in first.items():
            api.request(
                "POST", "/leaks", json={"token": token, "url": f"ostiary scan: {finding.location}"}
            )
    return len(first)


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True))
@click.option(
    "--git",
    "history",
    is_flag=True,
    help="Scan every commit of the git repositories at PATH (default: .), not the files.",
)
@click.option(
    "--revoke",
    is_flag=True,
    help="Report what was found to the server (POST /leaks), which revokes the live tokens.",
)
@json_option
@api_command
def scan(
    target: ApiTarget, paths: tuple[str, ...], history: bool, revoke: bool, as_json: bool
) -> None:
    """Find Ostiary tokens in files, standard input (-) or git history.

    Tokens are recognised by their prefix and checksum (docs/token-formats.md) and printed
    redacted; exits 1 when any was found, 0 when none, 2 when the scan failed.

    \b
    Example:
      ostiary scan .                   # every file under the current directory
      git diff | ostiary scan -        # standard input
      ostiary scan --git --revoke .    # every commit; revoke what is found
    """
    paths = paths or (".",)
    if history:
        findings = [finding for repository in paths for finding in scan_history(repository)]
    else:
        findings = list(scan_paths(paths))
    if as_json:
        print_json([finding.as_json() for finding in findings])
    else:
        for finding in findings:
            click.echo(f"{finding.location}: {finding.redacted} ({finding.kind})")
    if findings:
        distinct = len({finding.token for finding in findings})
        click.echo(f"Found {len(findings)} Ostiary token(s), {distinct} distinct.", err=True)
        if revoke:
            reported = report(target, findings)
            click.echo(
                f"Reported {reported} token(s) to {target.api_url}: each live one is revoked "
                "and its owner told.",
                err=True,
            )
        raise click.exceptions.Exit(1)
