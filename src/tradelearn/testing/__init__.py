"""Builders and tiny markets that tests and users share."""
