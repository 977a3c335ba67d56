"""Lowest layer: settings, principals, permissions, errors, clock, logs; imports nothing above."""
