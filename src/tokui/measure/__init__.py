"""Measurement: what each scenario really changed (uplift, A/B significance, KPIs)."""
