"""Segments: the filter language and its evaluation over a customer's read-model document."""
