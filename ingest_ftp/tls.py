"""Explicit FTPS (`AUTH TLS`): pyftpdlib's TLS handlers (pyOpenSSL) combined with ours.

Imported only when a certificate is configured. The MRO puts pyftpdlib's TLS layer in
front of the camera handler: `TlsCameraHandler -> TLS_FTPHandler -> SSLConnectionMixin
-> CameraHandler -> FTPHandler`, and likewise for the data channel.
"""

from __future__ import annotations

from OpenSSL import SSL
from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

from ingest_ftp.handler import CONNECTION_LOST, CameraHandler, UploadDTP


class TlsUploadDTP(TLS_DTPHandler, UploadDTP):
    """A TLS data channel with the upload rules of `UploadDTP`."""

    def is_connection_lost(self, error: BaseException | None) -> bool:
        # A reset arrives as SysCallError(errno, ...). SysCallError(-1, "Unexpected EOF"),
        # a close without TLS close_notify, is how many clients end an upload: not a loss.
        if isinstance(error, SSL.SysCallError):
            return error.args[0] in CONNECTION_LOST
        return super().is_connection_lost(error)


class TlsCameraHandler(TLS_FTPHandler, CameraHandler):
    """A camera session that may (or, with `tls_control_required`, must) switch to TLS."""

    dtp_handler = TlsUploadDTP
