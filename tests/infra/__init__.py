"""Tests of the foundation (Kafka, SeaweedFS, PostgreSQL), the layering of the tree, and the compose deployment."""
