"""`python -m catalog_worker` (console script `sensr-catalog-worker`): one replica.

SIGTERM or SIGINT: finish the batch in hand, commit it, leave the group, exit 0.
"""

from catalog_worker.service import CatalogWorker
from sensr.lifecycle import service_main


def main() -> None:
    service_main("catalog_worker", CatalogWorker)


if __name__ == "__main__":
    main()
