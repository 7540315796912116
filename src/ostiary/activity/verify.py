"""``ostiary audit verify``: walk the hash chain from its anchor to its head and report the first
event modified, removed, inserted or reordered.

- **removed**: a ``seq`` is missing (in the middle, or at the end before the recorded head);
- **reordered**: an event's hash is right for another place in the chain (its ``seq`` or its
  neighbour changed), found by trying the places near it;
- **inserted**: an event whose hash fits nowhere while the one after it fits this place (the
  rows after it were shifted), or an event before the anchor or after the head;
- **modified**: an event whose hash fits nowhere else either (its content changed).

Besides, the chain's record itself:

- **forged**: the record's MAC does not verify (its head or anchor was moved in the database);
- **removed**: the anchor is younger than the retention (a prefix deleted early), or the last
  sealed event is not the recorded head;
- **inserted**: an unsealed event older than the sealer's grace (the server seals its own
  within seconds; the sealer leaves such an event alone).

Unsealed events (``seq`` NULL) are counted: they are not tamper-evident until the next sealing
run (every ``OSTIARY_USAGE_FLUSH_SECONDS``).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ostiary.activity.chain import links, timestamp
from ostiary.activity.queries import (
    chain_is_authentic,
    chain_of,
    logged_event,
    oldest_unsealed,
    sealed_after,
    unsealed_count,
)
from ostiary.activity.records import LoggedEvent
from ostiary.activity.services import GRACE as SEAL_GRACE
from ostiary.events import Event

Problem = Literal["modified", "removed", "inserted", "reordered", "forged"]
PAGE = 1000
# As long as the sealer waits before leaving an unsealed event alone.
GRACE = SEAL_GRACE
# How many places either side of a broken link are tried for a reordered event.
WINDOW = 16


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What verification found."""

    checked: int
    unsealed: int
    anchor_seq: int
    head_seq: int
    problem: Problem | None = None
    seq: int | None = None
    event_id: str | None = None
    explanation: str = ""

    @property
    def intact(self) -> bool:
        """Whether the chain verified from anchor to head."""
        return self.problem is None


def _fits_elsewhere(
    key: bytes, event: LoggedEvent, stored: str | None, hashes: list[str], seqs: set[int]
) -> int | None:
    """The place (seq) near which ``event``'s stored hash would be right, if any."""
    for seq in sorted(seqs, key=lambda s: abs(s - event.seq)):
        if seq == event.seq:
            continue
        moved = dataclasses.replace(event, seq=seq)
        for previous in hashes:
            if links(key, previous, moved, stored):
                return seq
    return None


def verify_chain(
    session: Session,
    key: bytes,
    *,
    retention_days: int | None = None,
    grace: timedelta = GRACE,
    now: datetime | None = None,
) -> ChainReport:
    """Verify the chain in ``session`` (one read transaction).

    ``retention_days`` (the server's ``OSTIARY_EVENT_RETENTION_DAYS``) lets it check that the
    anchor is older than the retention; ``grace`` is how long an event may wait to be sealed.
    """
    now = now or datetime.now(UTC)
    chain = chain_of(session)
    anchor_seq, head_seq = chain.anchor_seq, chain.head_seq
    report = ChainReport(
        checked=0, unsealed=unsealed_count(session), anchor_seq=anchor_seq, head_seq=head_seq
    )
    if not chain_is_authentic(key, chain):
        return dataclasses.replace(
            report,
            problem="forged",
            explanation="the chain's record (its head and anchor) does not match its MAC: it "
            "was rewritten in the database",
        )
    anchored = chain.anchor_created_at
    if retention_days is not None and anchor_seq > 0:
        cutoff = now - timedelta(days=retention_days)
        if anchored is None or anchored >= cutoff:
            when = timestamp(anchored) if anchored else "an unknown time"
            return dataclasses.replace(
                report,
                problem="removed",
                seq=anchor_seq,
                explanation=f"the events up to the anchor (seq {anchor_seq}, created at {when}) "
                f"were deleted before the retention of {retention_days} days had passed",
            )
    walked, last_hash = _walk(session, key, chain.anchor_hash, anchor_seq, head_seq, report)
    if walked.problem is not None:
        return walked
    if last_hash != chain.head_hash:
        return dataclasses.replace(
            walked,
            problem="removed",
            seq=head_seq,
            explanation=f"the last sealed event is not the recorded head (seq {head_seq})",
        )
    # Before the first seal, what waits is the backlog of events older than the chain.
    at_genesis = head_seq == 0 and anchor_seq == 0
    stray = None if at_genesis else oldest_unsealed(session, now - grace)
    if stray is not None:
        return dataclasses.replace(
            walked,
            problem="inserted",
            event_id=stray.id,
            explanation=f"an unsealed event created at {timestamp(stray.created_at)}, longer "
            f"ago than the sealer's grace ({int(grace.total_seconds())} s): inserted outside "
            "the server",
        )
    return walked


def _walk(
    session: Session,
    key: bytes,
    anchor_hash: str,
    anchor_seq: int,
    head_seq: int,
    report: ChainReport,
) -> tuple[ChainReport, str]:
    """Walk the sealed events from the anchor: the report, and the last hash walked (for the
    caller to compare with the head's)."""
    early = session.scalar(select(func.min(Event.seq)).where(Event.seq <= anchor_seq))
    if early is not None:
        row = session.scalar(select(Event).where(Event.seq == early))
        early_report = dataclasses.replace(
            report,
            checked=0,
            problem="inserted",
            seq=early,
            event_id=row.id if row else None,
            explanation=f"an event at seq {early}, before the anchor (seq {anchor_seq})",
        )
        return early_report, anchor_hash
    previous, expected, checked = anchor_hash, anchor_seq + 1, 0
    recent: deque[tuple[int, str]] = deque([(anchor_seq, previous)], maxlen=WINDOW)
    after = anchor_seq
    while True:
        page = list(sealed_after(session, after, PAGE))
        if not page:
            break
        for index, row in enumerate(page):
            event = logged_event(row)
            if event.seq > head_seq:
                after_head = dataclasses.replace(
                    report,
                    checked=checked,
                    problem="inserted",
                    seq=event.seq,
                    event_id=event.id,
                    explanation=f"an event after the recorded head (seq {head_seq})",
                )
                return after_head, previous
            if event.seq != expected:
                last = event.seq - 1
                span = f"seq {expected}" if last == expected else f"seq {expected} to {last}"
                gap = dataclasses.replace(
                    report,
                    checked=checked,
                    problem="removed",
                    seq=expected,
                    explanation=f"the event(s) at {span} are missing",
                )
                return gap, previous
            if not links(key, previous, event, row.chain_hash):
                ahead = page[index + 1 : index + 1 + WINDOW]
                if len(ahead) < WINDOW and len(page) == PAGE:
                    ahead += list(sealed_after(session, page[-1].seq or 0, WINDOW))
                broken = _broken(
                    key, event, row.chain_hash, previous, recent, ahead, checked, report
                )
                return broken, previous
            previous = row.chain_hash or ""
            recent.append((event.seq, previous))
            expected += 1
            checked += 1
            after = event.seq
    if expected - 1 < head_seq:
        missing = f"the events from seq {expected} to the head (seq {head_seq}) are missing"
        short = dataclasses.replace(
            report, checked=checked, problem="removed", seq=expected, explanation=missing
        )
        return short, previous
    return dataclasses.replace(report, checked=checked), previous


def _broken(
    key: bytes,
    event: LoggedEvent,
    stored: str | None,
    previous: str,
    recent: deque[tuple[int, str]],
    ahead: list[Event],
    checked: int,
    report: ChainReport,
) -> ChainReport:
    """Say what broke the link at ``event``."""
    following = [logged_event(row) for row in ahead]
    hashes = [h for _, h in recent] + [row.chain_hash or "" for row in ahead]
    places = {s for s, _ in recent} | {e.seq for e in following}
    places |= set(range(event.seq - WINDOW, event.seq + WINDOW + 1))
    elsewhere = _fits_elsewhere(key, event, stored, hashes, places)
    common = dataclasses.replace(report, checked=checked, seq=event.seq, event_id=event.id)
    if elsewhere is not None:
        return dataclasses.replace(
            common,
            problem="reordered",
            explanation=f"sealed at seq {elsewhere}, now at seq {event.seq}",
        )
    if following:
        nxt = dataclasses.replace(following[0], seq=event.seq)
        if links(key, previous, nxt, ahead[0].chain_hash):
            return dataclasses.replace(
                common,
                problem="inserted",
                explanation=f"not sealed here: event {nxt.id} was sealed at this place",
            )
    return dataclasses.replace(
        common, problem="modified", explanation="its content no longer matches its hash"
    )
