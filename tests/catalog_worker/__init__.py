"""Tests of catalog_worker: its steps alone, and the worker as a real subprocess against Kafka, S3 and the index."""
