"""Segments: definitions as data, compiled to Ibis predicates over customer_features."""
