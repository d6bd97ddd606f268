"""Install, start, wait for and stop the services underneath Sensr (Kafka, SeaweedFS,
PostgreSQL) natively on this machine. Standard library only, so it runs before
Sensr's own Python dependencies are installed."""
