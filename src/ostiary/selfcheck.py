"""A self-audit of a configuration (``ostiary check``): each finding says what is wrong or
worth knowing, and how to fix it. Reads settings and files only; starts nothing."""

from __future__ import annotations

import enum
import ipaddress
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from sqlalchemy.engine import make_url

from ostiary.config import Settings
from ostiary.durations import describe_duration
from ostiary.mail.smtp import MailError, parse_smtp_url
from ostiary.net import is_loopback
from ostiary.passkeys.rules import relying_party
from ostiary.shared_state import described
from ostiary.web.hosts import HostPolicy, is_loopback_name


class Level(enum.StrEnum):
    """How much a finding matters; ``error`` makes ``ostiary check`` exit 1."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    """One checked aspect of the configuration."""

    topic: str
    level: Level
    message: str
    fix: str | None = None


def _private_file(path: Path) -> bool:  # or a directory: nothing for the group or others
    return not path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def check_secret(settings: Settings) -> Finding:
    """The key behind every token hash and cookie."""
    if settings.secret_key is not None:
        if len(settings.secret_key.get_secret_value()) < 32:
            return Finding(
                "secret key",
                Level.ERROR,
                "OSTIARY_SECRET_KEY is shorter than 32 characters.",
                "Set it to `python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            )
        return Finding("secret key", Level.OK, "Configured by OSTIARY_SECRET_KEY.")
    path = settings.secret_key_path
    if not path.exists():
        return Finding(
            "secret key",
            Level.OK,
            f"Generated into {path} (mode 0600) at first start.",
        )
    if not _private_file(path):
        return Finding(
            "secret key",
            Level.ERROR,
            f"{path} can be read by other users: they could forge session cookies.",
            f"chmod 600 {path}",
        )
    return Finding("secret key", Level.OK, f"Generated, in {path} (owner-only).")


def _sqlite_files(settings: Settings) -> list[Path]:
    url = make_url(settings.effective_database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return []
    database = Path(url.database)
    suffixes = ("", "-wal", "-shm", "-journal", "-writer", "-writer-wake")
    return [path for path in (Path(f"{database}{suffix}") for suffix in suffixes) if path.exists()]


def check_data_dir(settings: Settings) -> Finding:
    """The data directory and the SQLite database: owner-only, like the secret key (0700 and
    0600), since the database holds every password hash and token HMAC."""
    directory = settings.data_dir
    exposed_dir = directory.is_dir() and not _private_file(directory)
    exposed_files = [path for path in _sqlite_files(settings) if not _private_file(path)]
    if not exposed_dir and not exposed_files:
        if not directory.exists():
            return Finding(
                "data directory", Level.OK, f"{directory} is created owner-only at first start."
            )
        return Finding("data directory", Level.OK, f"{directory} and its database are owner-only.")
    names = ([str(directory)] if exposed_dir else []) + [str(path) for path in exposed_files]
    fixes = ([f"chmod 700 {directory}"] if exposed_dir else []) + (
        [f"chmod 600 {' '.join(str(path) for path in exposed_files)}"] if exposed_files else []
    )
    return Finding(
        "data directory",
        Level.WARNING,
        f"Other users can read {', '.join(names)}: the database holds password hashes and "
        "token hashes.",
        " && ".join(fixes),
    )


def check_tls(settings: Settings, now: datetime | None = None) -> Finding:
    """The certificate the server presents."""
    now = now or datetime.now(UTC)
    if settings.tls_cert is None:
        message = "A self-signed certificate is generated for localhost."
        if not is_loopback(settings.host):
            return Finding(
                "TLS",
                Level.WARNING,
                f"{message} Clients elsewhere will not trust it.",
                "Set OSTIARY_TLS_CERT and OSTIARY_TLS_KEY, or terminate TLS at a proxy.",
            )
        return Finding("TLS", Level.OK, message)
    try:
        certificate = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
    except (OSError, ValueError) as error:
        return Finding(
            "TLS",
            Level.ERROR,
            f"OSTIARY_TLS_CERT cannot be read: {error}",
            "Point it at a PEM certificate.",
        )
    expires = certificate.not_valid_after_utc
    if expires <= now:
        return Finding(
            "TLS", Level.ERROR, f"The certificate expired on {expires:%Y-%m-%d}.", "Renew it."
        )
    if (
        settings.tls_key is not None
        and settings.tls_key.exists()
        and not _private_file(settings.tls_key)
    ):
        return Finding(
            "TLS",
            Level.ERROR,
            f"{settings.tls_key} can be read by other users.",
            f"chmod 600 {settings.tls_key}",
        )
    if expires - now < timedelta(days=30):
        return Finding(
            "TLS",
            Level.WARNING,
            f"The certificate expires on {expires:%Y-%m-%d}.",
            "Renew it soon.",
        )
    return Finding("TLS", Level.OK, f"Certificate valid until {expires:%Y-%m-%d}.")


def check_proxies(settings: Settings) -> Finding:
    """Who may set X-Forwarded-For and X-Forwarded-Proto."""
    wide = [
        net for net in settings.trusted_proxies if net.prefixlen < (8 if net.version == 4 else 32)
    ]
    if wide:
        names = ", ".join(str(net) for net in wide)
        return Finding(
            "proxy trust",
            Level.ERROR,
            f"OSTIARY_TRUSTED_PROXIES trusts {names}: almost anyone can claim HTTPS and any "
            "client address, defeating https_required and the per-address throttle.",
            "List only the addresses of your own proxies.",
        )
    if not settings.trusted_proxies:
        return Finding("proxy trust", Level.OK, "No proxy is trusted; clients are seen directly.")
    names = ", ".join(str(net) for net in settings.trusted_proxies)
    return Finding("proxy trust", Level.OK, f"X-Forwarded-* is trusted from {names} only.")


def check_issuer(settings: Settings) -> Finding:
    """The public URL in ``iss`` and the RFC 8414 metadata."""
    issuer = settings.issuer
    if issuer is None:
        if is_loopback(settings.host):
            return Finding("issuer", Level.OK, "Taken from the URL each request reached.")
        return Finding(
            "issuer",
            Level.WARNING,
            "OSTIARY_ISSUER is not set: the issuer follows the Host header of each request "
            "(among the believed host names).",
            "Set OSTIARY_ISSUER to the public https:// URL.",
        )
    if issuer.startswith("http://") and not is_loopback(issuer.split("/")[2].split(":")[0]):
        return Finding(
            "issuer", Level.ERROR, f"OSTIARY_ISSUER {issuer} is plain HTTP.", "Use https://."
        )
    return Finding("issuer", Level.OK, f"{issuer}")


def check_allowed_hosts(settings: Settings) -> Finding:
    """Which Host headers are believed (anything else gets 400 before routing)."""
    policy = HostPolicy(settings.allowed_hosts, settings.issuer)
    if policy.any_host:
        return Finding(
            "allowed hosts",
            Level.WARNING,
            "OSTIARY_ALLOWED_HOSTS contains `*`: any Host header is believed.",
            "List the names clients use instead, e.g. OSTIARY_ALLOWED_HOSTS=id.example.com.",
        )
    names = [*settings.allowed_hosts]
    issuer_host = urlsplit(settings.issuer).hostname if settings.issuer else None
    if issuer_host:
        names.append(issuer_host)
    if not names:
        if is_loopback(settings.host):
            return Finding("allowed hosts", Level.OK, "Loopback names only (localhost, 127.0.0.1).")
        return Finding(
            "allowed hosts",
            Level.WARNING,
            f"Serving on {settings.host}, but only loopback Host headers are believed: requests "
            "that name this server any other way get 400.",
            "Set OSTIARY_ALLOWED_HOSTS to the names clients use (comma-separated; `.example.com` "
            "covers its subdomains), or OSTIARY_ISSUER to the public URL.",
        )
    return Finding(
        "allowed hosts", Level.OK, f"{', '.join(dict.fromkeys(names))} and loopback names."
    )


def check_sign_up(settings: Settings) -> Finding:
    """How accounts come to exist."""
    if settings.signup == "open":
        return Finding(
            "sign-up",
            Level.WARNING,
            "Open: anyone who reaches /signup can create an account.",
            "Set OSTIARY_SIGNUP=invite unless this server is meant to be public.",
        )
    return Finding(
        "sign-up",
        Level.OK,
        "Invite-only: accounts are created by an administrator (`ostiary accounts create`).",
    )


def check_second_factors(settings: Settings) -> Finding:
    """Whether every account must have a second factor (``OSTIARY_REQUIRE_2FA``)."""
    if settings.require_2fa:
        return Finding(
            "second factors",
            Level.OK,
            "Required (OSTIARY_REQUIRE_2FA): an account without a second factor enrols at its "
            "next sign-in, and the API's password login refuses it until then.",
        )
    return Finding(
        "second factors",
        Level.OK,
        "Optional: each account may add an authenticator app on the dashboard.",
        "Set OSTIARY_REQUIRE_2FA=true to require one of every account (as Heroku does).",
    )


def check_lifetimes(settings: Settings) -> Finding:
    """How long stolen tokens stay useful."""
    hours = settings.oauth_access_token_ttl / 3600
    if settings.oauth_access_token_ttl > 24 * 3600:
        return Finding(
            "token lifetimes",
            Level.WARNING,
            f"OAuth access tokens live {hours:g} hours; a leaked one stays useful that long.",
            "Keep OSTIARY_OAUTH_ACCESS_TOKEN_TTL at 8 hours or less; clients refresh.",
        )
    return Finding(
        "token lifetimes",
        Level.OK,
        f"OAuth access tokens live {hours:g} hours, codes {settings.grant_code_ttl} seconds; "
        "refresh tokens rotate on every use.",
    )


DEFAULT_IDLE_REVOKE_AFTER = 365 * 86400


def check_token_policy(settings: Settings) -> Finding:
    """Server-wide token policy weaker than the defaults (docs/token-lifecycle.md, "Policies").

    A warning: idle revocation off or slower than 365 days (a forgotten token lives forever).
    Non-expiring tokens carrying ``global`` are the default, so they are only noted, with the
    settings that end them.
    """
    idle = settings.token_idle_revoke_after
    if idle is None:
        return Finding(
            "token policy",
            Level.WARNING,
            "Idle tokens are never revoked (OSTIARY_TOKEN_IDLE_REVOKE_AFTER=off): a forgotten "
            "token stays usable forever.",
            "Set OSTIARY_TOKEN_IDLE_REVOKE_AFTER to 365d (the default) or less.",
        )
    if idle > DEFAULT_IDLE_REVOKE_AFTER:
        return Finding(
            "token policy",
            Level.WARNING,
            f"Idle tokens are revoked only after {describe_duration(idle)}, longer than the "
            "default 365 days.",
            "Set OSTIARY_TOKEN_IDLE_REVOKE_AFTER to 365d or less.",
        )
    scopes = settings.token_non_expiring_scopes
    if (
        settings.token_max_lifetime is None
        and settings.token_allow_non_expiring
        and (scopes is None or "global" in scopes)
    ):
        return Finding(
            "token policy",
            Level.OK,
            "Tokens without expiry are allowed, with global too (the default); idle ones are "
            f"revoked after {describe_duration(idle)}.",
            "To end them: OSTIARY_TOKEN_MAX_LIFETIME=90d, OSTIARY_TOKEN_ALLOW_NON_EXPIRING=false, "
            "or OSTIARY_TOKEN_NON_EXPIRING_SCOPES=read,identity.",
        )
    limit = settings.token_max_lifetime
    if limit is not None:
        kept = f"Tokens live at most {describe_duration(limit)}"
    elif not settings.token_allow_non_expiring:
        kept = "Every token has an expiry"
    else:
        kept = f"Tokens without expiry may carry only {', '.join(scopes or []) or 'no scope'}"
    return Finding(
        "token policy",
        Level.OK,
        f"{kept}; idle ones are revoked after {describe_duration(idle)}.",
    )


def check_rate_limits(settings: Settings) -> Finding:
    """The API's request budget per account, and whether workers share it."""
    budget = (
        f"{settings.rate_limit_capacity} requests banked, {settings.rate_limit_per_minute:g} "
        "more per minute, per account"
    )
    if settings.redis_url is not None:
        return Finding("rate limits", Level.OK, f"{budget}, shared by every worker in Redis.")
    if settings.workers > 1:
        return Finding(
            "rate limits",
            Level.WARNING,
            f"{settings.workers} workers without Redis each keep their own budgets, so an "
            f"account may make up to {settings.workers} x {settings.rate_limit_capacity} "
            "requests, and a guesser gets each sign-in throttle once per worker.",
            "Set OSTIARY_REDIS_URL (docs/deployment.md), or run one worker.",
        )
    if make_url(settings.effective_database_url).get_backend_name() != "sqlite":
        return Finding(
            "rate limits",
            Level.WARNING,
            f"{budget}, counted in this process only: several nodes on one database each "
            "keep their own budgets and sign-in throttles.",
            "With more than one node, set OSTIARY_REDIS_URL (docs/deployment.md).",
        )
    return Finding("rate limits", Level.OK, f"{budget}.")


def check_redis(settings: Settings) -> Finding:
    """How the shared state is reached: across machines, only over TLS."""
    if settings.redis_url is None:
        return Finding("shared state", Level.OK, "No Redis: each worker keeps its own counters.")
    url = urlsplit(settings.redis_url.get_secret_value())
    if url.scheme == "redis" and not is_loopback(url.hostname):
        return Finding(
            "shared state",
            Level.WARNING,
            f"Redis at {url.hostname} is reached without TLS: throttle counters and wake-ups "
            "cross the network in clear, and anyone on the path can change them.",
            "Use rediss:// (Redis with TLS), with a password.",
        )
    place = (
        "a Unix socket"
        if url.scheme == "unix"
        else described(settings.redis_url.get_secret_value())
    )
    return Finding(
        "shared state",
        Level.OK,
        f"Rate limit, sign-in throttles and long-poll wake-ups shared through Redis at {place} "
        "(the rate limit fails open and the throttles fail closed while it is away).",
    )


def check_hsts(settings: Settings) -> Finding:
    """Whether browsers are told to stay on HTTPS."""
    if settings.hsts_max_age < 86400:
        return Finding(
            "HSTS",
            Level.WARNING,
            f"Strict-Transport-Security max-age is {settings.hsts_max_age} s.",
            "Leave OSTIARY_HSTS_MAX_AGE at its default (two years).",
        )
    return Finding("HSTS", Level.OK, f"max-age {settings.hsts_max_age} s.")


def check_webhook_targets(settings: Settings) -> Finding:
    """Whether webhooks may be pointed at this machine (loopback), which tests need and a
    deployment should not allow: any account could then reach local admin ports."""
    if settings.webhook_allow_loopback:
        return Finding(
            "webhook targets",
            Level.WARNING,
            "OSTIARY_WEBHOOK_ALLOW_LOOPBACK is on: any account may point a webhook at this "
            "machine's own ports (plain http included).",
            "Unset OSTIARY_WEBHOOK_ALLOW_LOOPBACK outside tests.",
        )
    return Finding(
        "webhook targets", Level.OK, "https only; this machine's loopback addresses refused."
    )


def check_mail(settings: Settings) -> Finding:
    """The SMTP server alert mail and account mail (resets, verification) go through."""
    if settings.smtp_url is None:
        return Finding(
            "mail",
            Level.WARNING,
            "OSTIARY_SMTP_URL is not set: alert mail is off (alerts still reach the dashboard "
            "and webhooks), so are the account notifications (new sign-ins, password and API "
            "key changes), and nothing is queued for mail. The features that need mail are "
            'off: "Forgot password?" (users ask an administrator: `ostiary accounts '
            "reset-password EMAIL`), email verification (new accounts stay unverified) and the "
            "verified change of email (a change applies at once).",
            "Set OSTIARY_SMTP_URL=smtp://user:password@host:587?starttls=true (or smtps://) "
            "and OSTIARY_MAIL_FROM.",
        )
    try:
        server = parse_smtp_url(settings.smtp_url.get_secret_value())
    except MailError as error:
        return Finding("mail", Level.ERROR, str(error), "Fix OSTIARY_SMTP_URL (see README).")
    if server.security == "none" and not is_loopback(server.host):
        return Finding(
            "mail",
            Level.WARNING,
            f"Mail goes to {server.describe()} in plain text"
            + (": the SMTP password crosses the network readable." if server.username else "."),
            "Add ?starttls=true, or use smtps://.",
        )
    return Finding(
        "mail",
        Level.OK,
        f"Alert mail, the account notifications, password reset links and email verification "
        f"are on: sent through {server.describe()} from {settings.mail_from}.",
    )


def check_github_scanning(settings: Settings) -> Finding:
    """The key set that verifies GitHub's secret scanning reports (docs/leaks.md)."""
    path = settings.github_scanning_keys
    if path is None:
        return Finding(
            "GitHub secret scanning",
            Level.OK,
            "Off: POST /leaks/github answers 404 (POST /leaks and `ostiary scan` work).",
        )
    # Imported here: cryptography is not needed by the commands that never check this.
    from ostiary.leaks.signatures import KeySetError, load_key_set

    try:
        keys = load_key_set(path)
    except (OSError, KeySetError) as error:
        return Finding(
            "GitHub secret scanning",
            Level.ERROR,
            f"{path} cannot be read as GitHub's public_keys JSON ({error}): every report is "
            "answered 503.",
            "Save https://api.github.com/meta/public_keys/secret_scanning to that file.",
        )
    if not keys:
        return Finding(
            "GitHub secret scanning",
            Level.ERROR,
            f"{path} holds no P-256 key: every report is refused.",
            "Save https://api.github.com/meta/public_keys/secret_scanning to that file.",
        )
    return Finding(
        "GitHub secret scanning", Level.OK, f"POST /leaks/github verifies with {len(keys)} key(s)."
    )


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_passkeys(settings: Settings) -> Finding:
    """The relying party passkeys belong to (WebAuthn L2 section 5.4.2): the issuer's host name;
    browsers offer WebAuthn only to a secure context and never to an IP address."""
    if settings.issuer is None:
        if is_loopback(settings.host):
            return Finding(
                "passkeys",
                Level.OK,
                "Bound to the host name each request reached (use http://localhost, not "
                "127.0.0.1: browsers refuse an IP address).",
            )
        return Finding(
            "passkeys",
            Level.WARNING,
            "OSTIARY_ISSUER is not set: a passkey is bound to the host name it was registered "
            "at, whichever a request used.",
            "Set OSTIARY_ISSUER to the public https:// URL.",
        )
    try:
        party = relying_party(settings.issuer)
    except ValueError:
        return Finding("passkeys", Level.ERROR, f"OSTIARY_ISSUER {settings.issuer} has no host.")
    if _is_ip_address(party.id):
        return Finding(
            "passkeys",
            Level.WARNING,
            f"The RP id {party.id} is an IP address: browsers offer no passkeys there.",
            "Set OSTIARY_ISSUER to a URL with a host name.",
        )
    if party.origin.startswith("http://") and not is_loopback_name(party.id):
        return Finding(
            "passkeys",
            Level.ERROR,
            f"{party.origin} is plain HTTP: browsers offer passkeys to HTTPS only.",
            "Use https://.",
        )
    return Finding("passkeys", Level.OK, f"RP id {party.id}, origin {party.origin}.")


def audit(settings: Settings) -> list[Finding]:
    """Every finding about ``settings``."""
    return [
        check_secret(settings),
        check_data_dir(settings),
        check_tls(settings),
        check_proxies(settings),
        check_issuer(settings),
        check_allowed_hosts(settings),
        check_sign_up(settings),
        check_second_factors(settings),
        check_passkeys(settings),
        check_lifetimes(settings),
        check_token_policy(settings),
        check_rate_limits(settings),
        check_redis(settings),
        check_hsts(settings),
        check_mail(settings),
        check_webhook_targets(settings),
        check_github_scanning(settings),
    ]
