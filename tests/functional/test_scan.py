"""``ostiary scan`` as its users run it, against a real server: a git repository whose history
holds a real token (removed from the files since), a revoked one and a checksum-failing
look-alike; files and standard input; ``--revoke``; and the repository's pre-commit hook with
the real ``pre-commit`` package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.server import ServerProcess

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def _git(repository: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repository), *args],
        check=True,
        capture_output=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
    )


def _commit(repository: Path, name: str, text: str, message: str) -> None:
    (repository / name).write_text(text)
    _git(repository, "add", name)
    _git(
        repository,
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.test",
        "commit",
        "-q",
        "-m",
        message,
    )


def _scan(
    server: ServerProcess, *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    return subprocess.run(
        [sys.executable, "-m", "ostiary", "scan", *args],
        env={**env, "OSTIARY_API_URL": server.url},
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def _works(server: ServerProcess, token: str) -> bool:
    with server.client(token) as client:
        status = client.get("/account").status_code
    assert status in (200, 401)
    return status == 200


def _look_alike(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.fixture
def history(
    tmp_path: Path, server: ServerProcess, factory: Factory, account: UserAccount
) -> tuple[Path, str, str, str]:
    """A repository: a real token committed then removed, a revoked token, a look-alike."""
    _, real = factory.token(account, ["global"])
    revoked_id, revoked = factory.token(account, ["global"])
    with server.client(account.api_key) as client:
        assert client.delete(f"/oauth/authorizations/{revoked_id}").status_code == 200
    fake = _look_alike(factory.token(account, ["read"])[1])
    repository = tmp_path / "project"
    repository.mkdir()
    _git(repository, "init", "-q")
    _commit(repository, "settings.env", f"OSTIARY_API_KEY={real}\n", "add settings")
    _commit(repository, "settings.env", "OSTIARY_API_KEY=${FROM_VAULT}\n", "remove the key")
    _commit(repository, "old.txt", f"one\ntwo\n  token: '{revoked}'\nfake {fake}\n", "notes")
    return repository, real, revoked, fake


def test_history_shows_real_and_revoked_tokens_redacted_and_drops_the_look_alike(
    server: ServerProcess, history: tuple[Path, str, str, str]
) -> None:
    repository, real, revoked, fake = history
    scanned = _scan(server, "--git", str(repository))
    assert scanned.returncode == 1, scanned.stderr
    lines = scanned.stdout.splitlines()
    assert len(lines) == 2, scanned.stdout
    assert any(":settings.env:1: " + real[:9] in line for line in lines)
    assert any(":old.txt:3: " + revoked[:9] in line for line in lines)
    for secret in (real, revoked, fake, fake[:-1]):
        assert secret not in scanned.stdout + scanned.stderr
    assert "**********" in lines[0]

    as_json = json.loads(_scan(server, "--git", "--json", str(repository)).stdout)
    assert sorted((f["path"], f["line"]) for f in as_json) == [("old.txt", 3), ("settings.env", 1)]
    assert all(len(f["commit"]) == 40 for f in as_json)

    # The files as they are now hold only the revoked token; the real one is in history alone.
    files = _scan(server, str(repository))
    assert files.returncode == 1
    assert [line.split(": ")[0] for line in files.stdout.splitlines()] == [
        f"{repository / 'old.txt'}:3"
    ]
    assert _works(server, real), "scanning alone revokes nothing"


def test_revoke_reports_what_was_found_and_the_real_token_stops_working(
    server: ServerProcess, history: tuple[Path, str, str, str]
) -> None:
    repository, real, _, _ = history
    assert _works(server, real)
    revoked = _scan(server, "--git", "--revoke", str(repository))
    assert revoked.returncode == 1, revoked.stderr
    assert "Reported 2 token(s)" in revoked.stderr
    assert not _works(server, real)


def test_standard_input_and_clean_files_exit_0_when_nothing_is_found(
    server: ServerProcess, factory: Factory, account: UserAccount, tmp_path: Path
) -> None:
    _, real = factory.token(account, ["global"])
    piped = _scan(server, "-", stdin=f"nothing\nhere: {real}\n")
    assert piped.returncode == 1
    assert piped.stdout.startswith("-:2: ")
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_text(f"a look-alike {_look_alike(real)} is not a token\n")
    (clean / "b.bin").write_bytes(b"\0" + real.encode())  # binary: skipped
    nothing = _scan(server, str(clean))
    assert nothing.returncode == 0, nothing.stdout
    assert nothing.stdout == ""
    not_a_repository = _scan(server, "--git", str(clean))
    assert not_a_repository.returncode == 2
    assert "git log failed" in not_a_repository.stderr


def test_the_pre_commit_hook_refuses_a_commit_adding_a_token(
    server: ServerProcess, factory: Factory, account: UserAccount, tmp_path: Path
) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("the pre-commit package is not installed (a dev dependency)")
    _, real = factory.token(account, ["global"])
    repository = tmp_path / "user-project"
    repository.mkdir()
    _git(repository, "init", "-q")
    (repository / "config.py").write_text(f"KEY = '{real}'\n")
    (repository / "clean.py").write_text("KEY = os.environ['KEY']\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")},
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "GIT_CONFIG_GLOBAL": os.devnull,
    }

    def hook(*files: str) -> subprocess.CompletedProcess[str]:
        # try-repo runs the hook this repository declares (.pre-commit-hooks.yaml), installed
        # by pre-commit into an environment of its own, as a user's `repo:` entry would.
        return subprocess.run(
            [pre_commit, "try-repo", str(REPOSITORY_ROOT), "ostiary-scan", "--files", *files],
            cwd=repository,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    _git(repository, "add", "config.py", "clean.py")
    refused = hook("config.py")
    if "An unexpected error has occurred" in refused.stdout + refused.stderr:
        pytest.skip(f"pre-commit could not build the hook's environment:\n{refused.stdout}")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Ostiary tokens" in refused.stdout
    assert "Failed" in refused.stdout
    assert "config.py:1: " + real[:9] in refused.stdout
    assert real not in refused.stdout

    passed = hook("clean.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
