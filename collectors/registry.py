"""Which collector serves which kind of source."""

from __future__ import annotations

from collectors.base import Collector
from collectors.demo.feeds import DemoCollector
from dashboard.config import Config, Source


class NotYetSupported(Exception):
    pass


def collector_for(source: Source, config: Config) -> Collector:
    # a feed's "today" and local times are its units' zone (check-config: one per source)
    tz = config.source_tz(source)
    if source.kind == "demo" and source.feed == "access":
        from collectors.demo.feeds import DemoAccessCollector

        return DemoAccessCollector(source, config)
    if source.kind == "demo":
        return DemoCollector(source, tz)
    if source.kind == "fhir":
        from collectors.fhir.collector import FhirCollector

        collector = FhirCollector(source, tz)
        if source.service_map:
            from collectors.access import CaseWriter

            collector.cases = CaseWriter(source, config)
        return collector
    if source.kind == "access":
        from collectors.access import AccessCollector

        return AccessCollector(source, config)
    if source.kind == "metrics":
        from collectors.metricrows import MetricsCollector

        return MetricsCollector(source, config)
    if source.kind in ("staffing", "queue", "callback"):
        from collectors.tabular import TabularCollector

        return TabularCollector(source, tz, timeout=source.timeout_seconds)
    raise NotYetSupported(f"source {source.name}: kind {source.kind!r} has no collector yet")
