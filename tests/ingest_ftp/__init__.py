"""Tests of ingest_ftp: its parts alone, the real service driven by real FTP clients, and its hardening."""
