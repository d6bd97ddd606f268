"""`python -m activity_worker`: one replica.

SIGTERM or SIGINT: finish the batch in hand, commit it, leave the group, exit 0.
"""

from activity_worker.service import ActivityWorker
from sensr.lifecycle import service_main


def main() -> None:
    service_main("activity_worker", ActivityWorker)


if __name__ == "__main__":
    main()
