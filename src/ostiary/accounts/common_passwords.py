"""The common-password list of NIST SP 800-63B section 5.1.1.2 ("passwords obtained from
previous breach corpuses ... commonly-used ... passwords"): zxcvbn's bundled list of the 30,000
passwords most often found in breaches (the ``passwords`` frequency list of the ``zxcvbn``
package), loaded on first use, once per process.

Only the entries at least :data:`~ostiary.accounts.rules.MIN_PASSWORD_LENGTH` long are kept: a
shorter password is refused for its length before the list is consulted, so the others could
never decide anything, and holding them would cost every worker memory for nothing
(docs/account-recovery.md, "Password policy", has the figures).
"""

from __future__ import annotations

import functools
import importlib
import sys

_SOURCE = "zxcvbn.frequency_lists"


@functools.cache
def common_passwords(min_length: int) -> frozenset[str]:
    """The list's passwords of ``min_length`` characters or more, lower-cased."""
    already_loaded = _SOURCE in sys.modules
    module = importlib.import_module(_SOURCE)
    listed: list[str] = module.FREQUENCY_LISTS["passwords"]
    kept = frozenset(entry.lower() for entry in listed if len(entry) >= min_length)
    if not already_loaded:
        # The module holds five other lists (names, words) that nothing here reads: let them
        # go with it rather than keep several megabytes per worker.
        del sys.modules[_SOURCE]
    return kept


def list_size() -> int:
    """How many passwords the shipped list has (for the docs and tests: at least 20,000)."""
    module = importlib.import_module(_SOURCE)
    return len(module.FREQUENCY_LISTS["passwords"])


def is_common(password: str, min_length: int) -> bool:
    """Whether the password is on the list, compared case-insensitively."""
    return password.lower() in common_passwords(min_length)
