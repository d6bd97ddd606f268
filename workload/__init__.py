"""Synthetic users of a running Sensr, shared by the tests and the benchmarks: a client
of the JSON API, and waiting on state. Sensr itself never imports this package."""
