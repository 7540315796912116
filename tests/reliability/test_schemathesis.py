"""schemathesis over ``/openapi.json`` against a real server (issue 10, the reliability suite):
no input gives a 5xx, and no response breaks the schema it declares.

A fixed seed and a bounded example count keep the run deterministic and within about a minute
on two cores; a valid API key (and real app, collaborator and client identities as parameter
values) lets the generated requests past authentication and lookup. A missing or wrong key
fails the run instead of warning (``fail-on = ["missing_auth"]``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.factories import Factory
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.server

SEED = "42"
MAX_EXAMPLES = "25"


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is in the dev extra: pip install -e '.[dev]'")
    return found


def test_no_server_errors_and_responses_match_their_schema(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server: ServerProcess = start_server(
        tmp_path_factory.mktemp("schemathesis"),
        settings={"OSTIARY_RATE_LIMIT_CAPACITY": "1000000"},
    )
    factory = Factory(server.data_dir)
    try:
        owner, friend = factory.account("fuzz"), factory.account("fuzz-friend")
        with server.client(owner.api_key) as api:
            app = api.post("/apps", json={}).json()["name"]
            api.post(f"/apps/{app}/collaborators", json={"user": friend.email})
            client = api.post(
                "/oauth/clients", json={"name": "Fuzzed", "redirect_uri": "https://a.example/cb"}
            ).json()["id"]
        config = tmp_path_factory.mktemp("schemathesis-config") / "schemathesis.toml"
        config.write_text(
            "[warnings]\n"
            'fail-on = ["missing_auth"]\n'
            "[parameters]\n"
            f'app_identity = "{app}"\n'
            f'collaborator_identity = "{friend.email}"\n'
            f'client_identity = "{client}"\n'
            'account_identity = "~"\n'
        )
        done = subprocess.run(
            [
                _schemathesis(),
                "--config-file",
                str(config),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                SEED,
                "--no-color",
                "-H",
                f"Authorization: Bearer {owner.api_key}",
                "-H",
                "Accept: application/vnd.heroku+json; version=3",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        factory.close()
        server.stop()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "unhandled error" not in server.log()
