"""What makes two findings the same alert, what an alert says, and which policies are valid:
decisions without storage.

De-duplication (``finding_of``): each distinct finding raises its alert once.

==================  ===========================================================================
rule                one alert per
==================  ===========================================================================
spike               credential per hour (the hour counted, else the hour observed)
new-network         credential per network (the /24 or /48 named in the details)
new-user-agent      credential per user-agent family
dormant-use         credential per dormancy (the previous use, or "never used")
probing             credential per hour
dead-credential     credential per day (UTC)
leaked, expiring,   credential per ``occasion`` named in the details by the lifecycle job that
expired, idle-*     raised it (e.g. ``7d:<expires_at>``: each warning once per expiry date)
==================  ===========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from ostiary.alerts.records import LIFECYCLE_RULES, RULES, Anomaly, Rule
from ostiary.errors import InvalidParams

# Keys of a rule's facts read for the finding, first present wins (the detectors may name them
# either way); a finding without one falls back to the time it was observed.
_DISTINCT_BY: Mapping[str, tuple[str, ...]] = {
    "new-network": ("network", "address"),
    "new-user-agent": ("family", "user_agent_family", "agent"),
    "dormant-use": ("last_used_at",),
    **dict.fromkeys(LIFECYCLE_RULES, ("occasion",)),
}
_SECRET_WORDS = ("token", "secret", "password")
# The kind of credential an alert about an OAuth client's secret names (no authorization's).
CLIENT_SECRET = "client_secret"  # noqa: S105 (a kind's name, not a secret)
# Anything shaped like one of Ostiary's bearer secrets (its prefix and base62), valid or not: a
# mistyped token is still most of a secret.
_LOOKS_LIKE_SECRET = re.compile(r"ost[a-z]_[0-9A-Za-z]{16,}")
_MAX_FINDING = 300


def _hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def finding_of(anomaly: Anomaly) -> str:
    """The finding an anomaly is about, the same string each time the same thing is found."""
    rule, facts = anomaly.rule, anomaly.details
    if rule == "dead-credential":
        distinct = anomaly.observed_at.strftime("%Y-%m-%d")
    elif rule in _DISTINCT_BY:
        named = next((facts[key] for key in _DISTINCT_BY[rule] if facts.get(key) is not None), None)
        distinct = str(named) if named is not None else "never"
        if rule not in ("dormant-use", *LIFECYCLE_RULES) and named is None:
            distinct = _hour(anomaly.observed_at)
    else:  # spike, probing: per hour
        hour = facts.get("hour")
        distinct = str(hour)[:13] if hour else _hour(anomaly.observed_at)
    credential = anomaly.authorization_id or anomaly.client_id
    return f"{rule}:{credential}:{distinct}"[:_MAX_FINDING]


def _storable(value: object) -> object:
    """A fact as JSON holds it: timestamps in ISO 8601, sequences as lists, the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [_storable(item) for item in value]
        return [
            item
            for item in items
            if not (isinstance(item, str) and _LOOKS_LIKE_SECRET.search(item))
        ]
    return str(value)


def safe_facts(details: Mapping[str, object]) -> dict[str, object]:
    """A finding's facts with anything that could be a secret left out (keys naming a token,
    secret, password or code, and any string holding something shaped like a bearer secret),
    and every value one that JSON holds (a detector may hand a datetime or a set)."""
    kept: dict[str, object] = {}
    for key, value in details.items():
        name = str(key)
        if name.lower() == "code" or any(word in name.lower() for word in _SECRET_WORDS):
            continue
        if isinstance(value, Mapping):
            kept[name] = safe_facts(value)
            continue
        stored = _storable(value)
        if isinstance(stored, str) and _LOOKS_LIKE_SECRET.search(stored):
            continue
        kept[name] = stored
    return kept


def credential_label(kind: str, description: str, client_name: str | None) -> str:
    """How a person recognises the credential: its description, or what it is."""
    if kind == "api_key":
        return "API key"
    if kind == CLIENT_SECRET:
        return f"The client secret of {client_name}"
    if client_name and kind in ("oauth", "client_credentials"):
        return f"{client_name} (authorized application)"
    return description or "Token without a description"


_SUMMARIES: Mapping[str, str] = {
    "spike": "{credential} made an unusual number of requests: {requests} in the hour of {hour}, "
    "over {factor} times its usual {median} an hour.",
    "new-network": "{credential} was used from a network it had not used in 30 days: {network}.",
    "new-user-agent": "{credential} was used by a program it had not been used by: {family}.",
    "dormant-use": "{credential} was used after {days} days unused.",
    "probing": "{credential} was refused {refusals} times in a few minutes.",
    "dead-credential": "A {reason} of {credential} was presented again"
    " (from {address}); someone may hold a leaked copy.",
    "leaked": "{credential} was found exposed ({url}) and has been revoked.",
    "expiring": "{credential} expires in {days} days, at {expires_at}.",
    "expired": "{credential} expired at {expires_at}.",
    "idle-revocation": "{credential} has not been used for {days} days and will be revoked at "
    "{revoke_at} unless it is used.",
    "idle-revoked": "{credential} was revoked after {days} days unused.",
}


class _Missing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def summary_of(rule: str, credential: str, facts: Mapping[str, object]) -> str:
    """One sentence for a person (the dashboard, the mail)."""
    values = _Missing(facts)
    values["credential"] = credential
    if rule == "dormant-use" and "days" not in facts:
        values["days"] = facts.get("dormant_days", "many")
    if rule == "new-network" and "network" not in facts:
        values["network"] = facts.get("address", "?")
    if rule == "new-user-agent" and "family" not in facts:
        values["family"] = facts.get("user_agent_family", facts.get("agent", "?"))
    if rule == "dead-credential":
        values.setdefault("reason", "revoked or expired token")
        values["address"] = facts.get("address") or "an unknown address"
    if rule == "probing" and "refusals" not in facts:
        values["refusals"] = facts.get("count", "many")
    return _SUMMARIES.get(rule, "{credential}: " + rule).format_map(values)


# Found through a dead token: it tells the owner, it never suspends the live authorization.
NEVER_SUSPENDS: Rule = "dead-credential"
# What a suspension policy may name: the detectors of unusual use but the dead credential's
# (the lifecycle rules tell of what was done or is due, there is nothing to suspend).
SUSPENDING_RULES: tuple[Rule, ...] = tuple(
    rule for rule in RULES if rule != NEVER_SUSPENDS and rule not in LIFECYCLE_RULES
)


def validated_suspend_on(rules: Iterable[str]) -> list[str]:
    """The rules of a suspension policy, checked and in the documented order; 422
    ``invalid_params`` naming the unknown one, or ``dead-credential`` (which never suspends)."""
    wanted = set(rules)
    unknown = sorted(wanted - set(RULES))
    if unknown:
        raise InvalidParams(
            "suspend_on",
            f"Unknown alert rule {unknown[0]!r}; the rules are: {', '.join(RULES)}.",
        )
    if NEVER_SUSPENDS in wanted:
        raise InvalidParams(
            "suspend_on",
            f"{NEVER_SUSPENDS!r} cannot suspend: it is raised by a token that is already dead "
            "(revoked, or of an expired authorization), so whoever presents an old copy would "
            "suspend the live credential it belonged to. It is still raised and told.",
        )
    told_only = sorted(wanted & set(LIFECYCLE_RULES))
    if told_only:
        raise InvalidParams(
            "suspend_on",
            f"{told_only[0]!r} cannot suspend: it tells of a credential's life (leaked and "
            f"revoked, expiring, idle). The rules that can: {', '.join(SUSPENDING_RULES)}.",
        )
    return [rule for rule in RULES if rule in wanted]


def may_suspend(rule: str) -> bool:
    """Whether an alert of ``rule`` may suspend its credential (whatever a stored policy says:
    a policy saved before this rule was refused may still name it)."""
    return rule in SUSPENDING_RULES


def is_rule(name: str) -> bool:
    """Whether ``name`` is one of the alert rules."""
    return name in RULES


def as_rule(name: str) -> Rule:
    """``name`` as a :data:`Rule`; 422 when it is none."""
    for rule in RULES:
        if rule == name:
            return rule
    raise InvalidParams("rule", f"Unknown alert rule {name!r}.")
