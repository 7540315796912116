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
