"""Outgoing mail through the configured SMTP server."""
