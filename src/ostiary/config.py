"""Settings: the only place that reads the environment.

Every setting is an ``OSTIARY_*`` environment variable (see the README's configuration table).
Secrets are ``SecretStr`` so they never show up in a repr or a log line.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ostiary.durations import parse_duration

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _optional_duration(value: object) -> int | None:
    """A duration setting: unset, empty or ``off`` is none; else seconds (``90d``...)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "off", "none")):
        return None
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("a duration setting is more than 0 (or `off`)")
    return seconds


OptionalDuration = Annotated[int | None, BeforeValidator(_optional_duration)]


class Settings(BaseSettings):
    """Ostiary's configuration, read from ``OSTIARY_*`` environment variables."""

    # hide_input_in_errors: a refused value is never echoed, so a secret (OSTIARY_METRICS_TOKEN
    # too short, say) does not reach the terminal or a log in the error that refuses it.
    model_config = SettingsConfigDict(
        env_prefix="OSTIARY_", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(default=Path("var"), description="Database, TLS files and secret key.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in the data directory."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Keys token hashes and cookies; default: generated into the data directory.",
    )
    issuer: str | None = Field(
        default=None,
        description="Public URL and OAuth issuer (default: the URL the server is reached at).",
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=5000, ge=0, le=65535, description="Port to listen on.")
    workers: int = Field(default=1, ge=1, le=64, description="Server worker processes.")
    tls_cert: Path | None = Field(default=None, description="PEM certificate (default: generated).")
    tls_key: Path | None = Field(default=None, description="PEM private key (default: generated).")
    trusted_proxies: Annotated[list[Network], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (comma-separated) trusted for X-Forwarded-*.",
    )
    apps_domain: str = Field(
        default="herokuapp.com", description="Apps' web_url is https://<app>.<apps_domain>/."
    )
    git_host: str = Field(
        default="git.heroku.com", description="Apps' git_url is https://<git_host>/<app>.git."
    )
    oauth_access_token_ttl: int = Field(
        default=28800, ge=60, description="Seconds an OAuth access token lives (8 hours)."
    )
    grant_code_ttl: int = Field(
        default=300, ge=30, le=600, description="Seconds an authorization code lives (5 minutes)."
    )
    auth_failure_limit: int = Field(
        default=10, ge=1, description="Failed logins or client authentications allowed per window."
    )
    auth_failure_ip_limit: int = Field(
        default=100, ge=1, description="Failed authentications allowed per address per window."
    )
    auth_failure_window: int = Field(
        default=300, ge=10, le=86400, description="Seconds over which auth_failure_limit refills."
    )
    password_threads: int = Field(
        default=2, ge=1, le=16, description="argon2 threads per worker (lowest CPU priority)."
    )
    password_queue: int = Field(
        default=16, ge=0, description="Password checks that may wait per worker; more get 429."
    )
    rate_limit_capacity: int = Field(default=4500, ge=1, description="Requests an account banks.")
    rate_limit_per_minute: float = Field(
        default=75.0, ge=0.001, description="Refill rate per minute."
    )
    hsts_max_age: int = Field(default=63072000, ge=0, description="Strict-Transport-Security age.")
    log_level: str = Field(default="info", description="Log level for the server.")
    signup: Literal["invite", "open"] = Field(
        default="invite",
        description="invite: accounts are created by an administrator; open: anyone may sign up.",
    )
    login_request_limit: int = Field(
        default=10,
        ge=1,
        description="POST /auth and /oauth/device/code requests per client address per minute.",
    )
    periodic_interval: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="Seconds between runs of the server's periodic jobs (purging expired rows).",
    )

    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis (redis://, rediss://, unix://) for the state several workers or nodes "
        "share: the rate limit, the sign-in throttles and long-poll wake-ups; default: each "
        "worker keeps its own.",
    )
    redis_prefix: str = Field(
        default="ostiary",
        min_length=1,
        max_length=64,
        description="Prefix of Ostiary's keys and channel in Redis (several deployments may "
        "share one server).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip()]
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ostiary.db').resolve()}"

    @property
    def secret_key_path(self) -> Path:
        """Where the generated server secret lives when none is configured."""
        return self.data_dir / "secret_key"

    @property
    def generated_cert_path(self) -> Path:
        """Where the generated self-signed certificate lives."""
        return self.data_dir / "tls" / "cert.pem"

    @property
    def generated_key_path(self) -> Path:
        """Where the generated certificate's private key lives."""
        return self.data_dir / "tls" / "key.pem"

    # Hardening of inputs (issue 10): request size, trusted host names.
    max_body_size: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted, in bytes (1 MiB)."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names (comma-separated) believed in the Host header, besides loopback "
        "names and the issuer's host; `.example.com` matches subdomains, `*` any host.",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    # Monitoring (issue 14): the frequent jobs (usage flush, event sealing, deliveries).
    usage_flush_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds between flushes of the usage counters, and runs of the other "
        "frequent jobs (sealing the activity log, webhook deliveries).",
    )

    # Operations (issue 14, wt-ops): the /metrics bearer token and the JSON access log.
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that lets a scraper at any address (through a proxy too) read "
        "`/metrics`; at least 16 characters. Without it only loopback clients may.",
    )
    access_log: str = Field(
        default="-",
        min_length=1,
        description="Where the JSON access log goes, one line per request: `-` (stderr), a "
        "file path (appended to), or `off`.",
    )

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_metrics_token_is_none(cls, value: object) -> object:
        return None if value == "" else value  # OSTIARY_METRICS_TOKEN= (set, empty): none

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("OSTIARY_METRICS_TOKEN must be at least 16 characters long.")
        return value

    # Alerts (issue 14, wt-alerts): the rules seen at authentication.
    alert_dormant_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days unused after which a credential's next use raises a dormant-use "
        "alert (a credential never used counts from its creation).",
    )

    # Usage per credential and its anomaly rules (issue 14, usage; docs/usage.md).
    usage_recording: bool = Field(
        default=True,
        description="Count each credential's requests (hourly usage, addresses, user agents) and "
        "run the spike, new-network, new-user-agent and probing rules on them.",
    )
    alert_spike_factor: float = Field(
        default=10.0,
        gt=1,
        description="A spike: an hour's requests over this many times the credential's "
        "trailing 7-day hourly median (and over OSTIARY_ALERT_SPIKE_FLOOR).",
    )
    alert_spike_floor: int = Field(
        default=100,
        ge=1,
        description="A spike needs more than this many requests in the hour.",
    )
    alert_probing_threshold: int = Field(
        default=20,
        ge=1,
        description="Probing: this many 401 or 403 answers to one credential within 5 minutes.",
    )

    # The activity log (issue 14): how long events are kept.
    event_retention_days: int = Field(
        default=400,
        ge=1,
        le=36500,
        description="Days an activity-log event is kept; older sealed events are pruned by the "
        "periodic task, the last pruned one kept as the hash chain's anchor.",
    )

    # Webhooks and mail (issue 14's webhooks, and the sending half of issue 16's mail).
    webhook_limit: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Webhooks an account may have at once.",
    )
    webhook_retry_seconds: float = Field(
        default=86400.0,
        gt=0,
        le=7 * 86400,
        description="How long a failing webhook delivery is retried (with exponential backoff "
        "and jitter) before it is marked failed: 24 hours.",
    )
    webhook_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a webhook delivery attempt may take in all (connecting, sending, "
        "and the receiver's status line and headers), however slowly the receiver answers.",
    )
    webhook_allow_loopback: bool = Field(
        default=False,
        description="Allow webhooks to loopback hosts (and plain http to them): for tests only. "
        "Off, a URL naming a loopback, unspecified or link-local address or a localhost name is "
        "refused, and no delivery connects to a host resolving to one.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="SMTP server for outgoing mail: `smtp://[user:pass@]host[:port]` "
        "(`?starttls=true` to upgrade the connection) or `smtps://` for implicit TLS; "
        "default: no mail is sent (alert mail is off).",
    )
    mail_from: str = Field(
        default="ostiary@localhost",
        min_length=3,
        max_length=254,
        description="The From address of the mail Ostiary sends.",
    )

    # Token lifecycle policies (issue 15; docs/token-lifecycle.md). Durations are seconds or a
    # number with a unit (30s, 15m, 12h, 90d, 2w); an account may only make them stricter.
    token_max_lifetime: OptionalDuration = Field(
        default=None,
        description="Longest lifetime of a personal token or OAuth grant (a token asked for "
        "without expiry gets this much); default: no limit.",
    )
    require_2fa: bool = Field(
        default=False,
        description="Every account must have a second factor: one without enrols at its next "
        "sign-in before anything else, and the API's password login refuses it "
        "(two_factor_enrollment_required).",
    )
    token_allow_non_expiring: bool = Field(
        default=True,
        description="Whether a token may be made without expiry (with no maximum lifetime).",
    )
    token_non_expiring_scopes: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Scopes (comma-separated) a token without expiry may carry, e.g. "
        "`read,identity`; default: any.",
    )
    api_key_max_age: OptionalDuration = Field(
        default=None,
        description="Longest age of an account's API key: past it the key is refused until "
        "regenerated (warned 14, 7 and 1 days before); default: no limit.",
    )
    token_idle_revoke_after: OptionalDuration = Field(
        default=365 * 86400,
        description="Idle time after which an unused token is revoked (warned 14 days before); "
        "`off` never revokes: 365 days.",
    )

    @field_validator("token_non_expiring_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    github_scanning_keys: Path | None = Field(
        default=None,
        description="GitHub secret scanning's public keys (its `public_keys` JSON, saved to a "
        "file): enables POST /leaks/github (docs/leaks.md); unset: that route answers 404.",
    )

    # Expiry and idle revocation (docs/token-lifecycle.md): when the lifecycle job warns.
    expiry_warnings: Annotated[list[int], NoDecode] = Field(
        default=[14 * 86400, 7 * 86400, 86400],
        description="How long before a credential expires its owner is warned by mail and "
        "webhook, once each (comma-separated durations): `14d,7d,1d`.",
    )
    idle_revocation_warning: OptionalDuration = Field(
        default=14 * 86400,
        description="How long before the idle revocation the owner is warned: 14 days.",
    )

    @field_validator("expiry_warnings", mode="before")
    @classmethod
    def _split_durations(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            seconds = [parse_duration(part) for part in value]
            if any(each <= 0 for each in seconds):
                raise ValueError("an expiry warning is more than 0 before the expiry")
            return seconds
        return value


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
