"""The operations pieces every service shares (sensr/health.py): the side-port server's
/healthz, /readyz and /metrics, and the background readiness probe."""

from __future__ import annotations

import asyncio
import json

import requests

from sensr.health import OpsServer, PeriodicProbe


def test_ops_server_answers_health_readiness_and_metrics() -> None:
    checks = {"kafka": True, "index": False}
    server = OpsServer("127.0.0.1", 0, lambda: dict(checks)).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert requests.get(f"{base}/healthz", timeout=5).json() == {"alive": True}
        not_ready = requests.get(f"{base}/readyz", timeout=5)
        assert not_ready.status_code == 503 and not_ready.json() == {"ready": False, "checks": checks}
        checks["index"] = True
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
        metrics = requests.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200 and "process_cpu_seconds_total" in metrics.text
        assert requests.get(f"{base}/nothing", timeout=5).status_code == 404
    finally:
        server.stop()


def test_a_failing_check_is_not_ready_rather_than_an_error() -> None:
    def broken() -> dict[str, bool]:
        raise RuntimeError("database handle gone")

    server = OpsServer("127.0.0.1", 0, broken).start()
    try:
        answer = requests.get(f"http://127.0.0.1:{server.port}/readyz", timeout=5)
        assert answer.status_code == 503
        assert json.loads(answer.text) == {"ready": False, "checks": {"check": False}, "error": "database handle gone"}
    finally:
        server.stop()


def test_periodic_probe_keeps_the_latest_result() -> None:
    async def scenario() -> list[object]:
        results = iter([{"db": False}, {"db": True}, {"db": True}])
        seen: list[object] = []

        async def probe() -> dict[str, bool]:
            return next(results, {"db": True})

        watcher = PeriodicProbe("readiness", probe, initial={"db": False}, interval=0.01)
        seen.append(watcher.latest)
        watcher.start()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if watcher.latest == {"db": True}:
                break
        seen.append(watcher.latest)
        await watcher.stop()
        return seen

    assert asyncio.run(scenario()) == [{"db": False}, {"db": True}]
