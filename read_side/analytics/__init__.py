"""Analytics projections (aggregates only, no personal values) and their queries."""
