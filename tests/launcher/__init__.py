"""Tests of the launcher: the table of services, and `sensr run` as a subprocess."""
