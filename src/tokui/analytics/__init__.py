"""Analysis templates over the warehouse (Ibis expressions)."""
