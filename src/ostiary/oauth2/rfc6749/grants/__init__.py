"""The token endpoint's grants (RFC 6749 sections 4.1.3, 4.4 and 6), one module each."""
