"""`python -m notifier`: one notifier replica (any number may run; they share the
consumer group "notifier" and the delivery log, so each alert is sent once).

SIGTERM or SIGINT: stop reading, let the sends under way finish, leave the group, exit 0.
"""

from notifier.service import NotifierService
from sensr.lifecycle import service_main


def main() -> None:
    service_main("notifier", NotifierService)


if __name__ == "__main__":
    main()
