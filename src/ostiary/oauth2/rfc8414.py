"""Authorization server metadata (RFC 8414; rules R5, R25, R26): exactly what this server
supports, at ``/.well-known/oauth-authorization-server``."""

from __future__ import annotations

from ostiary.oauth2 import rfc7636
from ostiary.oauth2.rfc6749.client_auth import AUTH_METHODS


def metadata(
    issuer: str, grant_types: list[str], scopes: list[str], *, device: bool
) -> dict[str, object]:
    """The metadata document for an issuer URL (no trailing slash), the grant types registered
    at the token endpoint and the scopes this server knows."""
    document: dict[str, object] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS[:2]),
        "code_challenge_methods_supported": list(rfc7636.SUPPORTED_METHODS),
        "scopes_supported": sorted(scopes),
        "authorization_response_iss_parameter_supported": True,
    }
    if device:
        document["device_authorization_endpoint"] = f"{issuer}/oauth/device/code"
    return document
