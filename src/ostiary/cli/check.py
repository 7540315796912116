"""``ostiary check``: audit this server's configuration (the OSTIARY_* environment)."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click

from ostiary.cli.api import print_json
from ostiary.config import load_settings
from ostiary.selfcheck import Level, audit

MARKS = {Level.OK: "ok", Level.WARNING: "WARNING", Level.ERROR: "ERROR"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check(as_json: bool) -> None:
    """Audit the configuration: secrets, data directory, TLS, proxy trust, sign-up, lifetimes.

    Exits 1 when a finding is an error. Run it with the same environment as `ostiary serve`.

    \b
    Example:
      OSTIARY_TRUSTED_PROXIES=10.0.0.5 ostiary check
    """
    findings = audit(load_settings())
    if as_json:
        print_json([asdict(finding) for finding in findings])
    else:
        for finding in findings:
            click.echo(f"{MARKS[finding.level]:>7}  {finding.topic}: {finding.message}")
            if finding.fix and finding.level is not Level.OK:
                click.echo(f"{'':>7}  fix: {finding.fix}")
    if any(finding.level is Level.ERROR for finding in findings):
        sys.exit(1)
