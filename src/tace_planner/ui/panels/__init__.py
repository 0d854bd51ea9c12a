"""Docked widgets, one concept per module."""
