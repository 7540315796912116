"""Second factors of an account: a TOTP authenticator (RFC 6238) and its recovery codes.

Passkeys (WebAuthn) join them in ``enrolled_factors``; the sign-in and the API's password login
ask for one of them after the password (docs/account-security.md).
"""
