"""`python -m api` (or `sensr-api`): serve the JSON API (and web UI) until SIGTERM/SIGINT."""

from api.service import ApiService
from sensr.lifecycle import service_main


def main() -> None:
    service_main("api", ApiService)


if __name__ == "__main__":
    main()
