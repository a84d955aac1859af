"""Template families; importing this package registers every template."""

from tokui.analytics.families import cpm, rfm, sales  # noqa: F401
