"""RFC 6749, The OAuth 2.0 Authorization Framework: client authentication and the token
endpoint's grants."""
