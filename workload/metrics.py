"""Reading a service's Prometheus /metrics in tests: one parser (prometheus_client's own)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named `name` (e.g. `sensr_x_total`) whose labels include
    `labels`; 0 when there is none."""
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == name and all(s.labels.get(key) == value for key, value in labels.items()))
