"""Running ``wrk`` (Debian package ``wrk``) and reading its figures.

Every benchmark drives a real server with wrk; this module builds its Lua scripts and parses
its report: requests per second, latency percentiles, errors and, when asked, the count of each
HTTP status (a ``response`` hook, summed over wrk's threads in ``done``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import run

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}

# Appended to a script: counts every status per thread, and prints the sums once at the end.
_COUNT_STATUSES = """
statuses = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("status %d %d\\n", status, n)) end
end
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def _lua(value: str) -> str:
    """A Lua string literal (JSON's escapes are a subset of Lua's for these ASCII bodies)."""
    return json.dumps(value)


def request_script(
    method: str = "GET",
    *,
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    count_statuses: bool = False,
) -> str:
    """A wrk script sending one fixed request."""
    lines = [f"wrk.method = {_lua(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua(body)}")
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[{_lua(name)}] = {_lua(value)}")
    script = "\n".join(lines) + "\n"
    return script + _COUNT_STATUSES if count_statuses else script


def rotating_script(
    method: str,
    *,
    headers: Mapping[str, str],
    bodies: list[str] | None = None,
    authorizations: list[str] | None = None,
    count_statuses: bool = False,
) -> str:
    """A wrk script whose requests cycle through these bodies and/or Authorization values."""
    lines = [f"wrk.method = {_lua(method)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{_lua(name)}] = {_lua(value)}")
    lines.append(f"local bodies = {{{', '.join(map(_lua, bodies or []))}}}")
    lines.append(f"local authorizations = {{{', '.join(map(_lua, authorizations or []))}}}")
    lines.append(
        """local counter = 0
function request()
  counter = counter + 1
  local body = nil
  if #bodies > 0 then body = bodies[counter % #bodies + 1] end
  if #authorizations > 0 then
    wrk.headers["Authorization"] = authorizations[counter % #authorizations + 1]
  end
  return wrk.format(nil, nil, nil, body)
end"""
    )
    script = "\n".join(lines) + "\n"
    return script + _COUNT_STATUSES if count_statuses else script


@dataclass(frozen=True)
class WrkResult:
    """One wrk run's figures (latencies in ms)."""

    rps: float
    p50: float
    p99: float
    requests: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses"
    socket_errors: int  # connect, read, write errors and timeouts
    statuses: dict[int, int] = field(default_factory=dict)  # only with count_statuses

    @property
    def errors(self) -> int:
        """Requests that did not get a 2xx or 3xx answer."""
        return self.non_2xx + self.socket_errors


def parse_report(out: str) -> WrkResult:
    """Read a ``wrk --latency`` report (and the status lines of :data:`_COUNT_STATUSES`)."""

    def number(pattern: str) -> str:
        found = re.search(pattern, out)
        if found is None:
            raise ValueError(f"no {pattern!r} in wrk's report:\n{out}")
        return found.group(1)

    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        rps=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50=_ms(number(r"\s50(?:\.000)?%\s+(\S+)")),
        p99=_ms(number(r"\s99(?:\.000)?%\s+(\S+)")),
        requests=int(number(r"(\d+) requests in")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, socket.groups())) if socket else 0,
        statuses={
            int(status): int(count)
            for status, count in re.findall(r"^status (\d+) (\d+)$", out, re.M)
        },
    )


def require_wrk() -> None:
    """Stop with the way to install wrk when it is missing."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")


def wrk_command(
    url: str,
    seconds: float,
    connections: int,
    script: Path | None = None,
    headers: Mapping[str, str] | None = None,
    threads: int = 1,
    timeout: float | None = None,
) -> list[str]:
    """The wrk command line for one run."""
    # wrk takes whole seconds only.
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "--latency"]
    if timeout is not None:
        args.append(f"--timeout={round(timeout)}s")
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    return [*args, url]


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    *,
    script: str | None = None,
    headers: Mapping[str, str] | None = None,
    threads: int = 1,
    timeout: float | None = None,
) -> WrkResult:
    """Run wrk once (its script given as text) and return its figures, errors included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = None
        if script is not None:
            path = Path(tmp) / "script.lua"
            path.write_text(script)
        command = wrk_command(url, seconds, connections, path, headers, threads, timeout)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return parse_report(done.stdout)


def wrk(
    url: str,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    threads: int = 1,
    script: Path | None = None,
) -> dict[str, float]:
    """Run wrk and parse requests/s and latency percentiles (ms); any non-2xx answer stops."""
    command = wrk_command(url, seconds, connections, script, headers, threads)
    out = run(command, capture_output=True, text=True, check=True).stdout
    result = parse_report(out)
    if result.non_2xx:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")
    return {"rps": result.rps, "p50": result.p50, "p99": result.p99}
