"""``ostiary serve``'s logging: Ostiary's own loggers print through uvicorn's handler at the
configured level, so an INFO line (Redis is back, say) reaches the server log."""

from __future__ import annotations

import logging
import logging.config

import pytest

from ostiary.cli.server import log_config


def test_ostiary_loggers_print_at_the_configured_level(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(log_config("info"))
    try:
        logging.getLogger("ostiary.shared_state").info("shared state for rate_limit is back")
        logging.getLogger("ostiary.shared_state").debug("not at info")
    finally:
        logging.getLogger("ostiary").handlers.clear()
        logging.getLogger("ostiary").propagate = True
        logging.getLogger("ostiary").setLevel(logging.NOTSET)
    printed = capsys.readouterr().err
    assert "INFO:" in printed
    assert "shared state for rate_limit is back" in printed
    assert "not at info" not in printed


def test_uvicorn_prints_no_access_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Its access lines carry the path and query string; Ostiary's own access log replaces them.
    config = log_config("info")
    assert "access" not in config["handlers"]
    logging.config.dictConfig(config)
    try:
        logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /account?access_token=x"')
    finally:
        logging.getLogger("ostiary").handlers.clear()
        logging.getLogger("ostiary").propagate = True
    printed = capsys.readouterr()
    assert "access_token" not in printed.out + printed.err
