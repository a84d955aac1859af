"""Scenarios: definitions, triggers, the engine and the ready library."""
