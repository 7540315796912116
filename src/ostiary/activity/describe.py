"""Events as a person reads them: "API key regenerated from 203.0.113.5, Firefox on Linux"."""

from __future__ import annotations

from ostiary.activity.records import LoggedEvent
from ostiary.agents import agent_of

# The actions people meet most, said the way they would say them.
PHRASES = {
    "account:create": "Account created",
    "account:update": "Account details changed",
    "account:email:change": "Email address changed",
    "account:password:change": "Password changed",
    "account:password:failure": "Wrong password given to change the password",
    "account:password:reset": "Password reset",
    "account:password-reset:request": "Password reset link asked for",
    "account:email:verify": "Email address verified",
    "account:email:change-request": "Email change asked for (waiting for the new address)",
    "account:disable": "Account disabled by the administrator",
    "account:enable": "Account enabled by the administrator",
    "account:notifications:update": "Notification settings changed",
    "auth:failure": "A credential was refused",
    "auth:password:failure": "Failed sign-in",
    "auth:password:success": "Signed in with the password",
    "auth:reauthentication:failure": "Wrong password given to confirm it was you",
    "auth:second-factor:success": "Second factor accepted",
    "auth:second-factor:failure": "Wrong second-factor code",
    "account:second-factor:add": "Second factor added",
    "account:second-factor:remove": "Second factor removed",
    "account:recovery-codes:regenerate": "Recovery codes regenerated",
    "account:recovery-codes:use": "Recovery code used",
    "auth:passkey:success": "Signed in with a passkey",
    "auth:passkey:failure": "A passkey sign-in was refused",
    "account:passkey:rename": "Passkey renamed",
    "account:passkey:failure": "A passkey could not be registered",
    "session:create": "Signed in",
    "session:destroy": "Signed out",
    "token:api-key:create": "API key created",
    "token:api-key:regenerate": "API key regenerated",
    "token:authorization:regenerate": "Token regenerated",
    "token:authorization:create": "Token created",
    "token:authorization:update": "Token changed",
    "token:authorization:revoke": "Token revoked",
    "token:authorization:idle-revoke": "Token revoked after going unused",
    "token:access:revoke": "Access token revoked",
    "token:leak:revoke": "Token reported exposed, and revoked",
    "oauth:consent:grant": "Application authorized",
    "oauth:client:access-revoked": "Application's access revoked",
    "oauth:client:create": "OAuth application registered",
    "oauth:client:update": "OAuth application changed",
    "oauth:client:rotate": "OAuth application's secret rotated",
    "oauth:client:destroy": "OAuth application deleted",
    "oauth:client:auth-failure": "OAuth application's secret refused",
    "oauth:client:leak:revoke": "OAuth application's secret reported exposed, and retired",
    "oauth:token:issue": "OAuth token issued",
    "oauth:token:refresh": "OAuth token refreshed",
    "oauth:token:revoke": "OAuth token revoked",
    "oauth:refresh:reuse-detected": "A used refresh token was replayed: its tokens were revoked",
    "oauth:grant:replay": "An authorization code was replayed: its tokens were revoked",
    "app:create": "App created",
    "app:update": "App changed",
    "app:destroy": "App deleted",
    "app:config-vars:update": "Config vars changed",
    "app:collaborator:create": "Collaborator added",
    "app:collaborator:destroy": "Collaborator removed",
    "app:addon:create": "Add-on created",
    "app:addon:update": "Add-on plan changed",
    "app:addon:destroy": "Add-on removed",
}

_VERBS = {
    "create": "created",
    "update": "changed",
    "destroy": "deleted",
    "delete": "deleted",
    "revoke": "revoked",
    "regenerate": "regenerated",
    "rotate": "rotated",
    "issue": "issued",
    "start": "started",
    "approve": "approved",
    "deny": "denied",
    "failure": "failed",
    "success": "succeeded",
}


def what_happened(action: str) -> str:
    """An action as a phrase: a known one's, else its words ("alert raised" for
    ``alert:raise``), with its verb in the past."""
    known = PHRASES.get(action)
    if known is not None:
        return known
    words = action.split(":")
    verb = _VERBS.get(words[-1], words[-1])
    phrase = " ".join([*(w.replace("-", " ") for w in words[:-1]), verb]).strip()
    return phrase[:1].upper() + phrase[1:]


def sentence(event: LoggedEvent) -> str:
    """The whole sentence: what, from where, with what software."""
    parts = [what_happened(event.action)]
    if event.outcome == "failure" and "fail" not in parts[0].lower() and "refused" not in parts[0]:
        parts[0] += " (refused)"
    where = f" from {event.ip}" if event.ip else ""
    agent = f", {agent_of(event.user_agent).describe()}" if event.user_agent else ""
    return f"{parts[0]}{where}{agent}"
