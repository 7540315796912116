"""What a worker loads: an application on SQLite without Redis, started and stopped, that has
sent no webhook and seen no passkey, imports neither the PostgreSQL driver, nor redis-py, nor
httpx, nor py_webauthn (each is imported where it is first used: together about 25 MB of every
worker's memory, docs/architecture.md "Memory per worker")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.server import ostiary_env

LAZY = ("psycopg", "redis", "httpx", "webauthn")

# The application made, started (its jobs, checkpointer and wake-ups) and stopped gracefully
# (a last sealing and flush), as a worker runs it, without serving a request.
PROGRAM = """
import asyncio, json, sys
from ostiary.app import create_app, lifespan
from ostiary.config import load_settings
from ostiary.migrate import upgrade
settings = load_settings()
upgrade(settings.effective_database_url)
app = create_app(settings)

async def serve_nothing():
    async with lifespan(app):
        await asyncio.sleep(0.5)

asyncio.run(serve_nothing())
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {lazy})))
"""


def test_a_sqlite_worker_without_redis_loads_none_of_the_optional_libraries(
    tmp_path: Path,
) -> None:
    program = PROGRAM.replace("{lazy}", repr(set(LAZY)))
    ran = subprocess.run(
        [sys.executable, "-c", program],
        env=ostiary_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1]) == []
