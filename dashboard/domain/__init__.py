"""The domain: what a value is and what it means, whatever stores or shows it — readings and
the metric catalogue (built-in and configured), derived values, freshness, the clock and
working days, escalation, the read model a screen shows, the regional roll-ups, the wait
estimate, access-to-care cases and their figures, forecasts and reference figures."""
