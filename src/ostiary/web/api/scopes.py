"""Which scopes allow which route: one declarative table (documented in docs/scopes.md).

``global`` allows everything and is implied for every route. A route missing from the table is
refused to everyone but ``global``, and a test fails if any route is missing, so a new route cannot
silently widen what a narrow token may do.

Heroku's scopes: ``identity`` reads the account; ``read``/``write`` reach apps and their
resources but neither account details nor config vars; ``read-protected``/``write-protected`` add
config vars; ``create-apps`` creates apps and then acts only on the apps its authorization created.
"""

from __future__ import annotations

from ostiary.scopes import ALL_SCOPES

ANY_SCOPE = ALL_SCOPES
IDENTITY = frozenset({"global", "identity"})
ACCOUNT_WRITE = frozenset({"global"})
APP_READ = frozenset(
    {"global", "read", "write", "read-protected", "write-protected", "create-apps"}
)
APP_WRITE = frozenset({"global", "write", "write-protected", "create-apps"})
CREATE_APP = frozenset({"global", "write", "write-protected", "create-apps"})
CONFIG_READ = frozenset({"global", "read-protected", "write-protected", "create-apps"})
CONFIG_WRITE = frozenset({"global", "write-protected", "create-apps"})

ROUTE_SCOPES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/account"): IDENTITY,
    ("GET", "/users/{account_identity}"): IDENTITY,
    ("PATCH", "/account"): ACCOUNT_WRITE,
    ("PATCH", "/users/{account_identity}"): ACCOUNT_WRITE,
    ("GET", "/account/rate-limits"): ANY_SCOPE,
    ("GET", "/account/events"): IDENTITY,  # the activity log (issue 14)
    ("POST", "/oauth/authorizations"): ANY_SCOPE,  # the new scopes must be implied by the caller's
    ("GET", "/oauth/authorizations"): ACCOUNT_WRITE,
    ("GET", "/oauth/authorizations/{authorization_identity}"): ACCOUNT_WRITE,
    ("PATCH", "/oauth/authorizations/{authorization_identity}"): ACCOUNT_WRITE,
    ("DELETE", "/oauth/authorizations/{authorization_identity}"): ACCOUNT_WRITE,
    ("POST", "/oauth/authorizations/{authorization_identity}/actions/regenerate-tokens"): (
        ACCOUNT_WRITE
    ),
    ("POST", "/oauth/authorizations/{authorization_identity}/actions/reinstate"): ACCOUNT_WRITE,
    # Alerts (issue 14): read with the account, acted on with global only.
    ("GET", "/account/alerts"): IDENTITY,
    ("POST", "/account/alerts/{alert_identity}/actions/mark-seen"): ACCOUNT_WRITE,
    ("GET", "/account/alert-policy"): IDENTITY,
    ("PATCH", "/account/alert-policy"): ACCOUNT_WRITE,
    ("GET", "/account/token-policy"): IDENTITY,  # the token policy (issue 15)
    ("PATCH", "/account/token-policy"): ACCOUNT_WRITE,
    # Notification settings (issue 16): read with the account, changed with global only.
    ("GET", "/account/notification-settings"): IDENTITY,
    ("PATCH", "/account/notification-settings"): ACCOUNT_WRITE,
    # Usage per credential (issue 14): as the authorizations themselves.
    ("GET", "/oauth/authorizations/{authorization_identity}/usage"): ACCOUNT_WRITE,
    ("POST", "/oauth/clients"): ACCOUNT_WRITE,
    ("GET", "/oauth/clients"): ACCOUNT_WRITE,
    ("PATCH", "/oauth/clients/{client_identity}"): ACCOUNT_WRITE,
    ("DELETE", "/oauth/clients/{client_identity}"): ACCOUNT_WRITE,
    ("POST", "/oauth/clients/{client_identity}/actions/rotate-credentials"): ACCOUNT_WRITE,
    ("DELETE", "/oauth/tokens/{token_identity}"): ACCOUNT_WRITE,
    ("GET", "/oauth/sessions"): ACCOUNT_WRITE,
    ("DELETE", "/oauth/sessions/{session_identity}"): ACCOUNT_WRITE,
    ("GET", "/apps"): APP_READ,
    ("GET", "/users/{account_identity}/apps"): APP_READ,
    ("POST", "/apps"): CREATE_APP,
    ("GET", "/apps/{app_identity}"): APP_READ,
    ("PATCH", "/apps/{app_identity}"): APP_WRITE,
    ("DELETE", "/apps/{app_identity}"): APP_WRITE,
    ("GET", "/apps/{app_identity}/collaborators"): APP_READ,
    ("POST", "/apps/{app_identity}/collaborators"): APP_WRITE,
    ("GET", "/apps/{app_identity}/collaborators/{collaborator_identity}"): APP_READ,
    ("DELETE", "/apps/{app_identity}/collaborators/{collaborator_identity}"): APP_WRITE,
    ("GET", "/apps/{app_identity}/config-vars"): CONFIG_READ,
    ("PATCH", "/apps/{app_identity}/config-vars"): CONFIG_WRITE,
    ("GET", "/apps/{app_identity}/releases"): APP_READ,
    ("GET", "/apps/{app_identity}/releases/{release_identity}"): APP_READ,
    ("GET", "/apps/{app_identity}/addons"): APP_READ,
    ("POST", "/apps/{app_identity}/addons"): APP_WRITE,
    ("GET", "/apps/{app_identity}/addons/{addon_identity}"): APP_READ,
    ("PATCH", "/apps/{app_identity}/addons/{addon_identity}"): APP_WRITE,
    ("DELETE", "/apps/{app_identity}/addons/{addon_identity}"): APP_WRITE,
    ("GET", "/addons"): APP_READ,
    ("POST", "/actions/addons/resolve"): APP_READ,  # a POST that only looks up
    ("GET", "/addon-attachments"): APP_READ,
    ("GET", "/apps/{app_identity}/addon-attachments"): APP_READ,
    ("GET", "/addons/{addon_identity}/addon-attachments"): APP_READ,
    ("POST", "/actions/addon-attachments/resolve"): APP_READ,
    ("GET", "/apps/{app_identity}/releases/{release_identity}/config-vars"): CONFIG_READ,
    ("GET", "/apps/{app_identity}/dynos"): APP_READ,
    ("GET", "/apps/{app_identity}/pipeline-couplings"): APP_READ,
    # Account webhooks (issue 14): what they deliver is the account's whole activity.
    ("GET", "/account/webhooks"): ACCOUNT_WRITE,
    ("POST", "/account/webhooks"): ACCOUNT_WRITE,
    ("GET", "/account/webhooks/{webhook_identity}"): ACCOUNT_WRITE,
    ("PATCH", "/account/webhooks/{webhook_identity}"): ACCOUNT_WRITE,
    ("DELETE", "/account/webhooks/{webhook_identity}"): ACCOUNT_WRITE,
    ("GET", "/account/webhook-deliveries"): ACCOUNT_WRITE,
    ("GET", "/account/webhook-deliveries/{delivery_identity}"): ACCOUNT_WRITE,
}

# Routes that take no token: a client's public description, and Heroku's token exchange (the
# client authenticates with its secret in the body).
PUBLIC_ROUTES = frozenset({("GET", "/oauth/clients/{client_identity}"), ("POST", "/oauth/tokens")})

# Requests that do not spend the account's rate-limit budget.
UNCOUNTED_ROUTES = frozenset({("GET", "/account/rate-limits")})


def allowed_scopes(method: str, path_template: str) -> frozenset[str]:
    """The scopes that allow a route; only ``global`` for a route not in the table."""
    return ROUTE_SCOPES.get((method, path_template), frozenset({"global"}))
