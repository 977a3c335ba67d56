"""Security alerts: bursts of refused requests, bulk reads, tokens on many addresses."""
