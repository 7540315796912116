"""Tokens: authorizations and the bearer secrets they own, and authenticating by them."""
