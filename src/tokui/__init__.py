"""Tokui: CRM and lifecycle marketing for food and subscription e-commerce shops."""

__version__ = "0.1.0"
