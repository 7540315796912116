"""The common-password list of NIST SP 800-63B section 5.1.1.2 ("passwords obtained from
previous breach corpuses ... commonly-used ... passwords"): the 30,000 passwords most often
found in breaches, as the ``zxcvbn`` package ships them (its ``frequency_lists.py``,
``"passwords"``), read on first use, once per process.

The file is read as data, not imported: importing it runs the package's ``__init__``, which
builds zxcvbn's ranked dictionaries of every list (names, words, films) and keeps them, about
13 MB per worker for nothing we use. Only the entries at least
:data:`~ostiary.accounts.rules.MIN_PASSWORD_LENGTH` long are kept: a shorter password is refused
for its length before the list is consulted, so the others could never decide anything
(docs/account-recovery.md, "Password policy", has the figures).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

_PACKAGE = "zxcvbn"
_FILE = "frequency_lists.py"
_VARIABLE = "FREQUENCY_LISTS"
_LIST = "passwords"


class MissingPasswordList(RuntimeError):
    """The zxcvbn package (a dependency) is not installed or its list is not where it was."""


def _source() -> Path:
    """Where the package's list file is, found without importing the package."""
    spec = importlib.util.find_spec(_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / _FILE
        if path.is_file():
            return path
    raise MissingPasswordList(f"{_PACKAGE}/{_FILE} was not found: is zxcvbn installed?")


def read_list() -> tuple[str, ...]:
    """Every password of the shipped list, most common first, read from the file each call
    (the policy keeps only :func:`common_passwords`, once). The file writes each list as
    ``"a,b,c".split(",")``: that one string is taken, nothing of the file is run."""
    tree = ast.parse(_source().read_text(encoding="utf-8"))
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == _VARIABLE for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            continue
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            if not (isinstance(key, ast.Constant) and key.value == _LIST):
                continue
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "split"
                and isinstance(value.func.value, ast.Constant)
                and isinstance(value.func.value.value, str)
            ):
                return tuple(value.func.value.value.split(","))
            listed = ast.literal_eval(value)
            if isinstance(listed, list):
                return tuple(str(entry) for entry in listed)
    raise MissingPasswordList(f"{_PACKAGE}/{_FILE} has no {_LIST!r} list.")


@functools.cache
def common_passwords(min_length: int) -> frozenset[str]:
    """The list's passwords of ``min_length`` characters or more, lower-cased (read once)."""
    return frozenset(entry.lower() for entry in read_list() if len(entry) >= min_length)


def is_common(password: str, min_length: int) -> bool:
    """Whether the password is on the list, compared case-insensitively."""
    return password.lower() in common_passwords(min_length)
