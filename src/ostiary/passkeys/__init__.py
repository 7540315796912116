"""Passkeys (WebAuthn Level 2): credentials an account registers, used to sign in alone or as
the second factor, on py_webauthn (docs/passkeys.md)."""
