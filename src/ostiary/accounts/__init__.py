"""Accounts: the people who own apps and tokens."""
