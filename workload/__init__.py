"""Synthetic users of a running Sensr, shared by the tests and the benchmarks: a client
of the JSON API, camera-like JPEGs of a chosen size, and waiting on state. Sensr itself
never imports this package."""
