"""`python -m catalog_worker` (console script `sensr-catalog-worker`): one replica.

SIGTERM or SIGINT: finish the batch in hand, commit it, leave the group, exit 0.
"""

from __future__ import annotations

from catalog_worker.malloc import return_large_blocks_to_the_os
from catalog_worker.service import CatalogWorker
from sensr.lifecycle import run_service
from sensr.logs import configure_logging
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "catalog_worker")
    return_large_blocks_to_the_os()
    run_service(lambda stop: CatalogWorker(settings, stop))


if __name__ == "__main__":
    main()
