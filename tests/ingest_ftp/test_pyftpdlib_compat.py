"""ingest_ftp/pyftpdlib_compat.py reads and sets pyftpdlib's private state: these tests
hold it against the installed pyftpdlib, on real handler objects, and fail when an
upgrade moves past the release it was written for (re-read the module, then bump
WRITTEN_FOR)."""

from __future__ import annotations

import socket
from importlib.metadata import version

from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from ingest_ftp import pyftpdlib_compat as compat


def test_written_for_the_installed_pyftpdlib() -> None:
    assert version("pyftpdlib") == compat.WRITTEN_FOR


def test_the_private_state_read_is_there_on_a_live_handler() -> None:
    ioloop = IOLoop()
    server = FTPServer(("127.0.0.1", 0), FTPHandler, ioloop=ioloop)
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    listener.close()
    try:
        handler = FTPHandler(served, server, ioloop=ioloop)
        assert not compat.is_closed(handler) and not compat.is_closing(handler)
        assert not compat.is_quitting(handler)
        assert compat.waiting_upload(handler) is None and not compat.waits_for_data_connection(handler)
        handler._in_dtp_queue = ("file", "STOR")  # what pyftpdlib sets while a STOR waits for its data
        assert compat.waiting_upload(handler) == ("file", "STOR") and compat.waits_for_data_connection(handler)
        compat.forget_waiting_transfers(handler)
        assert compat.waiting_upload(handler) is None
        handler.close()
        assert compat.is_closed(handler) and compat.is_closing(handler)
    finally:
        client.close()
        server.close_all()
        ioloop.close()


def test_a_data_channel_reply_is_what_pyftpdlib_sends_on_close() -> None:
    assert "_resp" in DTPHandler.__init__.__code__.co_names
    channel = DTPHandler.__new__(DTPHandler)
    compat.set_transfer_reply(channel, None)
    assert channel._resp == ()
    compat.set_transfer_reply(channel, "552 too large", print)
    assert channel._resp == ("552 too large", print)
