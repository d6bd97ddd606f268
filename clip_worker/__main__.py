"""`python -m clip_worker`: one clip worker replica (any number may run: group `clips`).

SIGTERM or SIGINT: a render under way stops uncommitted (the job is rendered again by the
next owner of its partition); the worker leaves its group and exits 0.
"""

from clip_worker.service import ClipWorker
from sensr.lifecycle import service_main


def main() -> None:
    service_main("clip_worker", ClipWorker)


if __name__ == "__main__":
    main()
