"""`python -m clip_worker`: one clip worker replica (any number may run: group `clips`).

SIGTERM or SIGINT: a render under way stops uncommitted (the job is rendered again by the
next owner of its partition); the worker leaves its group and exits 0.
"""

from __future__ import annotations

from clip_worker.service import ClipWorker
from sensr.lifecycle import run_service
from sensr.logs import configure_logging
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "clip_worker")
    run_service(lambda stop: ClipWorker(settings, stop))


if __name__ == "__main__":
    main()
