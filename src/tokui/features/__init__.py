"""Customer features: the materialised customer 360 table, ranks, lifecycle, personas."""
