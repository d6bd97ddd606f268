"""`python -m ingest_http` (console script `sensr-ingest-http`): run the HTTP ingest edge
until SIGTERM or SIGINT."""

from ingest_http.service import IngestHttpService
from sensr.lifecycle import service_main


def main() -> None:
    service_main("ingest_http", IngestHttpService)


if __name__ == "__main__":
    main()
