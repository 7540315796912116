"""Expiry that nobody misses and idle revocation (issue 15): the periodic lifecycle job that
warns owners before their credentials expire or are revoked for idleness, and revokes them."""
