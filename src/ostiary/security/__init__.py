"""Security primitives: passwords, token minting, keyed hashing, the server secret, TLS."""
