"""The OAuth 2.0 authorization server's protocol core, one module per RFC, framework-neutral.

Endpoints take parsed parameters and a database session and return a response triple
``(status, body, headers)`` or raise :class:`~ostiary.oauth2.errors.OAuthError`; ``web.oauth``
turns those into HTTP. The token logic itself (codes, refresh rotation) lives in the ``tokens``
domain package and is shared with Heroku's ``POST /oauth/tokens``.
"""
