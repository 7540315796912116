"""Tokens in a git repository's history: the text of ``git log -p`` read commit by commit,
file by file, with the line each added line has in its file at that commit.

Only added lines are searched: a token removed by a commit was added by an earlier one, which
is where it is reported (and the removal never made it less exposed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ostiary.leaks.rules import scan_text

# ``git log -p --format=commit:%H`` puts this line before each commit's diff.
COMMIT_MARKER = "commit:"
_HUNK = re.compile(r"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True, slots=True)
class HistoryFinding:
    """A token with a valid checksum added by a commit: the commit, the file and its line."""

    commit: str
    path: str
    line: int
    token: str


def scan_git_log(lines: Iterable[str]) -> Iterator[HistoryFinding]:
    """Every token the commits of a ``git log -p --format=commit:%H`` text added.

    A file's header (from ``diff`` to its first hunk) names it; inside a hunk every line is
    content, so an added line that itself begins ``++ `` is not taken for a header.
    """
    commit, path, line, in_header = "", "", 0, False
    for raw in lines:
        text = raw.rstrip("\n")
        if text.startswith(COMMIT_MARKER):
            commit, path, line, in_header = text[len(COMMIT_MARKER) :].strip(), "", 0, False
        elif text.startswith("diff "):
            in_header = True
        elif (hunk := _HUNK.match(text)) is not None:
            line, in_header = int(hunk.group(1)), False
        elif in_header:
            if text.startswith("+++ "):
                target = text[4:]
                path = target[2:] if target.startswith("b/") else target
        elif text.startswith("+"):
            for found in scan_text(text[1:]):
                yield HistoryFinding(commit=commit, path=path, line=line, token=found.token)
            line += 1
        elif text.startswith(" "):
            line += 1
