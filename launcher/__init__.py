"""Starting Sensr: the `sensr` command (`sensr run`, `sensr infra`, `sensr demo`), the one
table of services it starts, and the stacks of services the tests and benchmarks start.

It stands above everything else: it starts `infra/` (Kafka, SeaweedFS, PostgreSQL) and
runs each service as `python -m <service>`, never importing a service; the core
(`sensr/`) knows nothing of it.
"""
