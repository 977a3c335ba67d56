"""Inbound integration: order and payment events from RabbitMQ."""
