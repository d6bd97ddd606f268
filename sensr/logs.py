"""Structured logging for every service: structlog renders one JSON object per line (or a
readable console line), and the standard library's loggers (Tornado, pyftpdlib,
kafka-python) go through the same renderer."""

from __future__ import annotations

import logging
import sys

import structlog

from sensr.settings import CoreSettings


def configure_logging(core: CoreSettings, service: str) -> None:
    """Route structlog and stdlib logging to stderr in the configured format, tagged with `service`."""
    def add_service(_logger: object, _method: str, event: dict) -> dict:
        event.setdefault("service", service)
        return event

    shared = [
        add_service,
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer = (structlog.dev.ConsoleRenderer() if core.log_format == "console"
                else structlog.processors.JSONRenderer())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(core.log_level.upper())
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)


def first_line(error: BaseException | None) -> str:
    """An error as one log field: its message's first line, else its type's name (driver
    errors carry the whole SQL statement on the lines after)."""
    text = str(error) if error is not None else ""
    return text.splitlines()[0] if text.strip() else type(error).__name__
