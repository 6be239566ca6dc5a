"""The plan model: parse EXPLAIN JSON into a typed tree with derived metrics. Pure, no I/O."""
