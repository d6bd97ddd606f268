"""Every service starts the same way (sensr/lifecycle.py), as a real process: while Kafka
cannot be reached it waits, saying so (`waiting_for_dependency`, with what it waits for
and the next pause), and a SIGTERM then ends the wait and the process cleanly (exit 0)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from infra.process import free_ports
from launcher.service_stack import S3Endpoint, ServiceStack
from launcher.services import SERVICE_NAMES
from workload.waiting import eventually

UNREACHABLE_S3 = S3Endpoint("127.0.0.1:9", "key", "secret")


def log_events(stack: ServiceStack, name: str) -> list[dict[str, object]]:
    events = []
    for line in stack.log(name).splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a line printed outside the logger
    return events


def test_every_service_waits_for_kafka_then_stops_on_sigterm(tmp_path: Path) -> None:
    [closed_port] = free_ports(1)  # nothing listens there: Kafka is not up yet
    stack = ServiceStack(f"127.0.0.1:{closed_port}", tmp_path, s3=UNREACHABLE_S3)
    try:
        for name in SERVICE_NAMES:  # all at once: each first attempt blocks until Kafka's bootstrap times out
            stack.start_service(name, wait=False)
        for name in SERVICE_NAMES:
            waits = eventually(lambda: [event for event in log_events(stack, name)
                                        if event["event"] == "waiting_for_dependency"],
                               timeout=120, what=lambda: f"{name}: {stack.log(name)[-3000:]}")
            assert "kafka" in str(waits[0]["dependency"]) and float(str(waits[0]["next_delay"])) > 0, waits[0]
        for name in SERVICE_NAMES:
            popen = stack.processes[name].popen
            assert popen is not None
            popen.send_signal(signal.SIGTERM)
            assert popen.wait(60) == 0, f"{name}: {stack.log(name)[-3000:]}"
            phases = [event["event"] for event in log_events(stack, name) if event["event"].startswith("service_")]
            assert phases[-3:] in (["service_stopped_while_starting", "service_closing", "service_stopped"],
                                   ["service_draining", "service_closing", "service_stopped"]), (name, phases)
    finally:
        stack.stop()
