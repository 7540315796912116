"""The heroku CLI's install into the shared cache is safe when several test workers start at once
on a cold cache (tests/support/heroku_cli.py), shown with a stand-in for npm that records every
run and notices when another run is under way."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.heroku_cli import install

ROOT = Path(__file__).resolve().parents[2]
Popen = subprocess.Popen[str]

# Records each run, flags a run that starts while another is under way, lingers so that
# concurrent callers really overlap, then writes the executable the install is checked by.
FAKE_NPM = """\
#!{python}
import os, sys, time
from pathlib import Path
log = Path({log!r})
busy = log.with_suffix(".busy")
with log.open("a") as out:
    out.write("overlap\\n" if busy.exists() else "run\\n")
busy.touch()
time.sleep(0.5)
prefix = Path(sys.argv[sys.argv.index("--prefix") + 1])
if os.environ.get("FAKE_NPM_FAIL"):
    busy.unlink()
    sys.exit("registry unreachable")
(prefix / "node_modules" / ".bin").mkdir(parents=True)
(prefix / "node_modules" / ".bin" / "heroku").write_text("#!/bin/sh\\n")
busy.unlink()
"""


def _fake_npm(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "npm.log"
    npm = tmp_path / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable, log=str(log)))
    npm.chmod(0o755)
    return npm, log


def _install_in_a_process(npm: Path, root: Path, env: dict[str, str] | None = None) -> Popen:
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from tests.support.heroku_cli import install
        print(install({str(npm)!r}, Path({str(root)!r})) or "ok")
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env
    )


def test_concurrent_installs_run_npm_once_and_all_find_the_cli(tmp_path: Path) -> None:
    npm, log = _fake_npm(tmp_path)
    root = tmp_path / "cache" / "heroku-cli"
    workers = [_install_in_a_process(npm, root) for _ in range(3)]
    outputs = [worker.communicate(timeout=120)[0].strip() for worker in workers]
    assert outputs == ["ok", "ok", "ok"]
    assert log.read_text().splitlines() == ["run"]  # once, never two at a time
    assert (root / "node_modules" / ".bin" / "heroku").exists()
    assert sorted(p.name for p in root.parent.iterdir()) == ["heroku-cli", "heroku-cli.lock"]


def test_a_failed_install_leaves_nothing_that_looks_installed(tmp_path: Path) -> None:
    npm, log = _fake_npm(tmp_path)
    root = tmp_path / "cache" / "heroku-cli"
    worker = _install_in_a_process(npm, root, env={"FAKE_NPM_FAIL": "1", "PATH": "/usr/bin:/bin"})
    reason = worker.communicate(timeout=120)[0].strip()
    assert reason.startswith("npm install heroku@11 failed")
    assert not root.exists()
    assert sorted(p.name for p in root.parent.iterdir()) == ["heroku-cli.lock"]
    assert install(str(npm), root) == ""  # the next attempt installs normally
    assert log.read_text().splitlines() == ["run", "run"]


def test_a_partial_install_from_before_is_replaced(tmp_path: Path) -> None:
    npm, _ = _fake_npm(tmp_path)
    root = tmp_path / "cache" / "heroku-cli"
    (root / "node_modules" / "half-written").mkdir(parents=True)
    assert install(str(npm), root) == ""
    assert (root / "node_modules" / ".bin" / "heroku").exists()
    assert not (root / "node_modules" / "half-written").exists()
