"""Tests of ingest_http: its parts alone, the real service driven by real clients, and its hardening."""
