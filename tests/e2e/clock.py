"""Every time the end-to-end setup depends on, as a pure function of an injected ``now``.

Nothing here reads the clock: :func:`plan` takes ``now`` (and the setup time to plan for)
and returns a :class:`Timeline`. ``tests/e2e/test_clock.py`` runs it for 48 start times
over a day and checks the invariants below, so a run cannot fail "at some hours".

Invariants (checked by :func:`check`):

* **Every backfill writes something.** ``promtool tsdb create-blocks-from rules`` walks
  2-hour blocks aligned to the epoch and gives up at the first block whose end comes before
  the group's first evaluation in it, so a range starting a few minutes before a block
  boundary writes nothing at all (the old "probe backfill wrote nothing" failure). Every
  range here starts *on* a block boundary and spans at least one evaluation interval of the
  slowest group, so its first block always holds an evaluation.
* **The history starts on a block boundary** and covers at least the span asked for.
* **The history ends fresh.** It ends ``lead`` (rounded up to ``align``) after ``now``: the
  live server starts once the end has passed, and its 5m rates still find samples as long
  as setup took less than ``lead + STALE_AFTER``.
* **VictoriaMetrics slices tile.** vmalert stamps a group's live evaluations at multiples
  of its interval; with ``align`` = the count interval the replayed counts sit on the same
  grid and end exactly at the history's end, so the first live count whose window reaches
  past the history comes one interval after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BLOCK = 2 * 3600  # promtool's rule-backfill block, aligned to the epoch
COUNT_INTERVAL = 300  # the slowest recording group (the SLO event counts)
EVAL_INTERVAL = 60  # backfill step of every other recording group
RECENT = 5 * 3600  # at least this much recording history before the end (for: 3h + 1h look-back)
RAW_MARGIN = 900  # raw series read only by recent rules start this long before them
STALE_AFTER = 210  # seconds past the end at which 5m rates at "now" start to lose samples


@dataclass(frozen=True)
class Timeline:
    """When everything happens, for one scenario set up at ``now``."""

    now: float
    lead: float
    start: int  # first second of the history (a block boundary)
    end: int  # last second of the history; the live server starts after it
    whole_from: int  # backfill of groups with their own interval: [whole_from, end]
    recent_from: int  # backfill of every other group: [recent_from, end]
    raw_from: int  # series no interval group reads are written from here on

    @property
    def span(self) -> int:
        return self.end - self.start

    def count_grid(self, interval: int = COUNT_INTERVAL) -> list[int]:
        """Return the timestamps an engine that aligns evaluations to ``interval`` (vmalert
        replay started at ``whole_from``) stamps on the whole-history backfill."""
        first = math.ceil(self.whole_from / interval) * interval
        return list(range(first, self.end + 1, interval))


def block_floor(t: float) -> int:
    """Return the start of the 2-hour block holding ``t``."""
    return int(t // BLOCK) * BLOCK


def plan(now: float, span: int, lead: float, align: int = 60) -> Timeline:
    """Return the timeline of a history of at least ``span`` seconds, set up at ``now``.

    ``lead`` is the setup time to plan for; the end is ``now + lead`` rounded up to a
    multiple of ``align`` (60 for Prometheus; the count interval for VictoriaMetrics).
    """
    end = math.ceil((now + lead) / align) * align
    start = block_floor(end - span)
    recent_from = block_floor(end - RECENT)
    return Timeline(
        now=now,
        lead=lead,
        start=start,
        end=end,
        whole_from=start,
        recent_from=max(start, recent_from),
        raw_from=max(start, recent_from - RAW_MARGIN),
    )


def backfill_ranges(tl: Timeline) -> list[tuple[str, int, int]]:
    """Return the (what, start, end) ranges the rule backfill covers."""
    return [("whole", tl.whole_from, tl.end), ("recent", tl.recent_from, tl.end)]


def check(tl: Timeline, span: int) -> list[str]:
    """Return every invariant ``tl`` breaks (empty when it is sound)."""
    bad = []
    if tl.start % BLOCK:
        bad.append(f"history start {tl.start} is not on a block boundary")
    if tl.span < span:
        bad.append(f"history spans {tl.span}s, less than {span}s")
    if not 0 <= tl.end - tl.now - tl.lead < 300 + 1e-9:
        bad.append(f"end {tl.end} is not just after now + lead ({tl.now + tl.lead})")
    for what, a, b in backfill_ranges(tl):
        if a % BLOCK:
            bad.append(f"{what} backfill starts at {a}, inside a block: it may write nothing")
        if b - a < COUNT_INTERVAL:
            bad.append(f"{what} backfill [{a}, {b}] is shorter than one count interval")
        # promtool's first block: [a, a + BLOCK); its first evaluation is within one
        # interval of a, so it lies inside the block and before the range's end.
        first_eval_latest = a + COUNT_INTERVAL - 1
        if first_eval_latest >= min(a + BLOCK, b + COUNT_INTERVAL):
            bad.append(f"{what} backfill's first block may hold no evaluation")
    grid = tl.count_grid()
    if not grid or tl.end - grid[-1] > COUNT_INTERVAL - 60:
        bad.append("vmalert's first live count past the end comes less than a minute after it")
    if tl.end - tl.recent_from < RECENT:
        bad.append("recent backfill is shorter than RECENT")
    if tl.recent_from - tl.raw_from < min(RAW_MARGIN, tl.recent_from - tl.start):
        bad.append("raw series start too late for the first recent 5m rates")
    return bad
