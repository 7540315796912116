"""Every domain package has the same files with the same meanings (docs/architecture.md,
"Layers"), so a newcomer knows where to look in any of them."""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import ostiary

PACKAGES = (
    "accounts",
    "apps",
    "notifications",
    "oauth_clients",
    "passkeys",
    "policies",
    "second_factors",
    "tokens",
    "usage",
    "webhooks",
)
SHAPE = ("models.py", "records.py", "queries.py", "rules.py", "services.py", "errors.py")
ROOT = Path(ostiary.__file__).parent


@pytest.mark.parametrize("package", PACKAGES)
def test_each_domain_package_has_the_shape(package: str) -> None:
    present = {path.name for path in (ROOT / package).glob("*.py")}
    assert set(SHAPE) <= present, f"{package}/ lacks {sorted(set(SHAPE) - present)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_rules_and_errors_know_no_session(package: str) -> None:
    """Rules decide without storage and errors carry no state: neither takes a Session."""
    for name in ("rules.py", "errors.py"):
        # Parsed on a thread of its own: Playwright's greenlets, in the same xdist worker, can
        # leave this thread's C recursion count where ast.parse refuses to start.
        with ThreadPoolExecutor(1) as pool:
            tree = pool.submit(ast.parse, (ROOT / package / name).read_text()).result()
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy.orm"
            for alias in node.names
        }
        assert "Session" not in imported, f"{package}/{name} takes a database session"


def test_every_data_file_is_in_the_package_data() -> None:
    """A file the server reads (a template, a stylesheet) but the wheel leaves out works in a
    checkout and fails once installed: every non-Python file must match package-data."""
    import tomllib

    pyproject = tomllib.loads((ROOT.parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["ostiary"]
    packaged = {path for pattern in patterns for path in ROOT.glob(pattern)}
    data = {
        path
        for path in ROOT.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }
    assert data - packaged == set()
