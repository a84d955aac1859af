"""Commands under test configure logging for their process (tokui.ops.logs.configure);
inside the test process that would outlive the test and add log lines to every later
command's output, so each test gets the logging setup back as it found it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), list(logger.filters), logger.level,
                      logger.propagate))  # fmt: skip
    yield
    for logger, handlers, filters, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate = propagate
