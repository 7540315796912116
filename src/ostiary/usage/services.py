"""Changes to usage: writing a flushed batch (upserts) and finding its anomalies in the same
transaction, and deleting usage past its retention.

:func:`record_usage` reads the history the rules need *before* it writes the batch (what was
known is what the batch is compared with), then upserts every row in one statement per table
(``INSERT .. ON CONFLICT DO UPDATE``, SQLite and PostgreSQL), then applies the rules
(``usage.rules``). It takes the caller's session and never commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, case, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ostiary.agents import agent_of
from ostiary.alerts.records import Anomaly
from ostiary.clock import utcnow
from ostiary.db import Database, table_of
from ostiary.usage import rules
from ostiary.usage.buffer import ADDRESS, AGENT, UsageBatch
from ostiary.usage.models import UsageHour, UsageRefusal, UsageSource
from ostiary.usage.queries import hour_totals, known_sources, owners_of, refusals_since
from ostiary.usage.rules import Thresholds

logger = logging.getLogger("ostiary.usage")

# New addresses and user agents kept per credential and kind; past it only known ones are
# counted (a caller holding a token could otherwise grow the table with made-up user agents).
MAX_SOURCES_PER_CREDENTIAL = 1000
# Refusals are only needed for the probing window; a day is kept for a person to look at.
REFUSAL_RETENTION = timedelta(days=1)
PRUNE_BATCH = 500
PRUNE_MAX_BATCHES = 20


def at_utc(seconds: float) -> datetime:
    """An epoch time as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"usage upserts need SQLite or PostgreSQL, not {dialect}")


def _upsert_hours(session: Session, batch: UsageBatch, owners: dict[str, str]) -> None:
    if not batch.hours:
        return
    table = table_of(UsageHour)
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["authorization_id", "hour", "route_group", "status_class"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    session.execute(
        statement,
        [
            {
                "authorization_id": authorization_id,
                "hour": at_utc(hour),
                "route_group": group,
                "status_class": status,
                "account_id": owners[authorization_id],
                "count": count,
            }
            for (authorization_id, hour, group, status), count in batch.hours.items()
        ],
    )


def _upsert_sources(session: Session, batch: UsageBatch, owners: dict[str, str]) -> None:
    if not batch.sources:
        return
    table = table_of(UsageSource)
    statement = _insert(session, table)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["authorization_id", "kind", "value"],
        set_={
            "first_seen": case(
                (excluded.first_seen < table.c.first_seen, excluded.first_seen),
                else_=table.c.first_seen,
            ),
            "last_seen": case(
                (excluded.last_seen > table.c.last_seen, excluded.last_seen),
                else_=table.c.last_seen,
            ),
            "count": table.c.count + excluded.count,
        },
    )
    session.execute(
        statement,
        [
            {
                "authorization_id": authorization_id,
                "kind": kind,
                "value": value,
                "account_id": owners[authorization_id],
                "first_seen": at_utc(seen.first),
                "last_seen": at_utc(seen.last),
                "count": seen.count,
            }
            for (authorization_id, kind, value), seen in batch.sources.items()
        ],
    )


def _upsert_refusals(session: Session, batch: UsageBatch) -> None:
    if not batch.refusals:
        return
    table = table_of(UsageRefusal)
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["authorization_id", "minute"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    session.execute(
        statement,
        [
            {"authorization_id": authorization_id, "minute": at_utc(minute), "count": count}
            for (authorization_id, minute), count in batch.refusals.items()
        ],
    )


def _cap_new_sources(batch: UsageBatch, known: dict[str, list[tuple[str, str, datetime]]]) -> None:
    stored: dict[tuple[str, str], set[str]] = defaultdict(set)
    for authorization_id, sources in known.items():
        for kind, value, _ in sources:
            stored[(authorization_id, kind)].add(value)
    dropped = 0
    for key in list(batch.sources):
        authorization_id, kind, value = key
        values = stored[(authorization_id, kind)]
        if value in values:
            continue
        if len(values) >= MAX_SOURCES_PER_CREDENTIAL:
            del batch.sources[key]
            dropped += 1
        else:
            values.add(value)
    if dropped:
        logger.warning(
            "usage: %d new sources not kept, past %d per credential",
            dropped,
            MAX_SOURCES_PER_CREDENTIAL,
        )


def record_usage(
    session: Session, batch: UsageBatch, thresholds: Thresholds, now: datetime | None = None
) -> list[Anomaly]:
    """Write a batch of usage in the caller's transaction; the anomalies it shows, once each.

    Counts of credentials deleted since they were counted are dropped (there is no one to
    show them to)."""
    now = now or utcnow()
    ids = batch.authorization_ids()
    if not ids:
        return []
    owners = owners_of(session, ids)
    batch.without(ids - owners.keys())
    ids = set(owners)
    if not ids:
        return []

    earliest_hour = min((key[1] for key in batch.hours), default=int(now.timestamp()))
    history = hour_totals(session, ids, at_utc(earliest_hour) - rules.SPIKE_HISTORY)
    known = known_sources(session, ids)
    earliest_minute = min((key[1] for key in batch.refusals), default=int(now.timestamp()))
    refused = refusals_since(session, ids, at_utc(earliest_minute) - rules.PROBING_WINDOW)
    _cap_new_sources(batch, known)

    _upsert_hours(session, batch, owners)
    _upsert_sources(session, batch, owners)
    _upsert_refusals(session, batch)

    anomalies: list[Anomaly] = []
    anomalies += _spikes(batch, history, owners, thresholds, now)
    anomalies += _new_sources(batch, known, owners, now)
    anomalies += _probing(batch, refused, owners, thresholds, now)
    return anomalies


def _spikes(
    batch: UsageBatch,
    history: dict[str, dict[datetime, int]],
    owners: dict[str, str],
    thresholds: Thresholds,
    now: datetime,
) -> list[Anomaly]:
    added: dict[tuple[str, int], int] = defaultdict(int)
    for (authorization_id, hour, _, _), count in batch.hours.items():
        added[(authorization_id, hour)] += count
    found = []
    for (authorization_id, hour), count in sorted(added.items()):
        start = at_utc(hour)
        totals = history.get(authorization_id, {})
        before = totals.get(start, 0)
        trailing = [
            total for when, total in totals.items() if start - rules.SPIKE_HISTORY <= when < start
        ]
        median = rules.hourly_median(trailing)
        if rules.spike_begins(before, before + count, median, thresholds):
            found.append(
                Anomaly(
                    rule="spike",
                    account_id=owners[authorization_id],
                    authorization_id=authorization_id,
                    observed_at=now,
                    details={
                        "hour": start.isoformat(),
                        "requests": before + count,
                        "median": median,
                        "factor": thresholds.spike_factor,
                        "floor": thresholds.spike_floor,
                    },
                )
            )
    return found


def _new_sources(
    batch: UsageBatch,
    known: dict[str, list[tuple[str, str, datetime]]],
    owners: dict[str, str],
    now: datetime,
) -> list[Anomaly]:
    addresses: dict[str, list[str]] = defaultdict(list)
    agents: dict[str, list[str]] = defaultdict(list)
    for authorization_id, kind, value in sorted(batch.sources):
        (addresses if kind == ADDRESS else agents)[authorization_id].append(value)
    found = []
    recent_since = now - rules.NETWORK_MEMORY
    for authorization_id, seen in addresses.items():
        stored = [(v, last) for kind, v, last in known.get(authorization_id, ()) if kind == ADDRESS]
        recent = [v for v, last in stored if last >= recent_since]
        for address, network in rules.new_networks(seen, recent, used_before=bool(stored)):
            found.append(
                Anomaly(
                    rule="new-network",
                    account_id=owners[authorization_id],
                    authorization_id=authorization_id,
                    observed_at=now,
                    details={"address": address, "network": str(network)},
                )
            )
    for authorization_id, values in agents.items():
        families = {
            agent_of(v or None).family
            for kind, v, _ in known.get(authorization_id, ())
            if kind == AGENT
        }
        new = rules.new_families((agent_of(v or None).family for v in values), families)
        for family in new:
            example = next(v for v in values if agent_of(v or None).family == family)
            found.append(
                Anomaly(
                    rule="new-user-agent",
                    account_id=owners[authorization_id],
                    authorization_id=authorization_id,
                    observed_at=now,
                    details={"family": family, "user_agent": example},
                )
            )
    return found


def _probing(
    batch: UsageBatch,
    refused: dict[str, dict[datetime, int]],
    owners: dict[str, str],
    thresholds: Thresholds,
    now: datetime,
) -> list[Anomaly]:
    added: dict[str, dict[datetime, int]] = defaultdict(dict)
    for (authorization_id, minute), count in batch.refusals.items():
        added[authorization_id][at_utc(minute)] = count
    found = []
    window = rules.PROBING_WINDOW
    for authorization_id, minutes in sorted(added.items()):
        stored = refused.get(authorization_id, {})
        # The window ending with each minute this batch refused in: the first that reaches the
        # threshold with this batch is the finding.
        for end in sorted(minutes):
            start = end - window + timedelta(minutes=1)
            before = sum(c for m, c in stored.items() if start <= m <= end)
            after = before + sum(c for m, c in minutes.items() if start <= m <= end)
            if rules.probing_begins(before, after, thresholds.probing_threshold):
                found.append(
                    Anomaly(
                        rule="probing",
                        account_id=owners[authorization_id],
                        authorization_id=authorization_id,
                        observed_at=now,
                        details={
                            "refusals": after,
                            "window_minutes": int(window / timedelta(minutes=1)),
                            "threshold": thresholds.probing_threshold,
                        },
                    )
                )
                break
    return found


def _deleted(result: object) -> int:
    count: int = result.rowcount  # type: ignore[attr-defined]
    return count


def prune(database: Database, now: datetime | None = None) -> int:
    """Delete usage past its retention (:data:`rules.RETENTION`, refusals after a day), in
    short bounded transactions; how many rows went."""
    now = now or utcnow()
    removed = 0
    hours = table_of(UsageHour)
    sources = table_of(UsageSource)
    refusals = table_of(UsageRefusal)
    cutoff = now - rules.RETENTION
    for _ in range(PRUNE_MAX_BATCHES):
        with database.unit_of_work(write=True) as session:
            old_hours = list(
                session.scalars(
                    select(hours.c.hour)
                    .where(hours.c.hour < cutoff)
                    .distinct()
                    .order_by(hours.c.hour)
                    .limit(24)
                )
            )
            if old_hours:
                removed += _deleted(
                    session.execute(delete(hours).where(hours.c.hour.in_(old_hours)))
                )
            old_sources = session.execute(
                select(sources.c.authorization_id, sources.c.kind, sources.c.value)
                .where(sources.c.last_seen < cutoff)
                .limit(PRUNE_BATCH)
            ).all()
            if old_sources:
                key = tuple_(sources.c.authorization_id, sources.c.kind, sources.c.value)
                removed += _deleted(
                    session.execute(
                        delete(sources).where(key.in_([tuple(row) for row in old_sources]))
                    )
                )
            old_minutes = list(
                session.scalars(
                    select(refusals.c.minute)
                    .where(refusals.c.minute < now - REFUSAL_RETENTION)
                    .distinct()
                    .limit(PRUNE_BATCH)
                )
            )
            if old_minutes:
                removed += _deleted(
                    session.execute(delete(refusals).where(refusals.c.minute.in_(old_minutes)))
                )
        if not (old_hours or old_sources or old_minutes):
            break
    return removed


def anomalies_summary(anomalies: Sequence[Anomaly]) -> str:
    """The rules of some anomalies, counted, for a log line (no details: they name addresses)."""
    counts: dict[str, int] = defaultdict(int)
    for anomaly in anomalies:
        counts[anomaly.rule] += 1
    return ", ".join(f"{rule} x{count}" for rule, count in sorted(counts.items()))
