"""The OAuth 2.0 authorization server's protocol core: the RFC rules, one module per RFC, with
no storage and no framework.

Endpoints and grants take parsed parameters and the stores they need, typed as the Protocols of
:mod:`ostiary.oauth2.protocols`, and return plain values or raise
:class:`~ostiary.oauth2.errors.OAuthError` (or a domain error, which ``oauth2.errors.from_domain``
maps). The domain packages implement the stores (``tokens.oauth_storage``,
``oauth_clients.oauth_storage``); ``web.oauth`` and ``web.api.tokens`` bind them to a transaction
and turn the answers into HTTP. Nothing here imports SQLAlchemy or a domain package: an import
contract (pyproject.toml, ``make imports``) holds it so. Rule numbers (R1-R39) in this package
refer to docs/oauth-server-rules.md.
"""
