"""Tests of the api: the JSON API and the web UI, their shared application layer, and their hardening."""
