"""What the FTP edge reads and sets of pyftpdlib's private state, in one place.

pyftpdlib (2.2) offers no public way to ask whether a channel is closed or closing,
whether its session is quitting, which transfer command waits for its data connection,
or to change the reply a data channel gives when it closes. The edge needs each: it
answers a STOR only after Kafka's acknowledgement (so the data channel's own 226 is
withheld), drains uploads under way on SIGTERM, and answers a command whose data
connection died. Every such access goes through the functions below;
`tests/ingest_ftp/test_pyftpdlib_compat.py` checks them against the installed pyftpdlib, and fails
when an upgrade changes the release they were written for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import AsyncChat

WRITTEN_FOR = "2.2.0"
"""The pyftpdlib release whose private attributes these functions read."""


def is_closed(channel: AsyncChat) -> bool:
    """Whether `close()` already ran on a control or data channel."""
    return channel._closed


def is_closing(channel: AsyncChat) -> bool:
    """Whether the channel is closed, or closes once its output is sent."""
    return channel._closed or channel._closing


def is_quitting(handler: FTPHandler) -> bool:
    """Whether the session received QUIT and ends once the transfer under way is done."""
    return handler._quit_pending


def waiting_upload(handler: FTPHandler) -> tuple[Any, str] | None:
    """The (file, command) of a STOR/APPE waiting for its data connection, if any."""
    return handler._in_dtp_queue


def waits_for_data_connection(handler: FTPHandler) -> bool:
    """Whether a transfer command (upload or listing) waits for its data connection."""
    return handler._in_dtp_queue is not None or handler._out_dtp_queue is not None


def forget_waiting_transfers(handler: FTPHandler) -> None:
    """Drop the commands waiting for a data connection (it died before they could run)."""
    handler._in_dtp_queue = handler._out_dtp_queue = None


def set_transfer_reply(channel: DTPHandler, reply: str | None, log: Callable[[str], Any] | None = None) -> None:
    """The reply the control connection sends when this data channel closes; None sends
    none (the edge answers later itself)."""
    channel._resp = () if reply is None else (reply, log)
