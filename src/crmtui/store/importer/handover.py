"""Handing a big deals file's new deals to the writer while the rest of the file is planned.

Once the planner has found as many new deals as the import will drop the deal indexes for (at
least as many as the table holds, and BULK_MIN_ROWS), it hands them over in chunks: rows, the
ids of their stage changes, tag links, custom values, and the companies and contacts planned
meanwhile (`stream` sends them from a second process to the one that writes). What later rows change in
records handed over already goes again, once, when the file is done; the plan then holds only
what was not handed over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmtui.store.importer.plan import POS, Plan

# New deals per hand-over: few enough that little is left to write when planning ends, enough
# that each message is worth sending. Whether it is time is looked at every 1,024 rows. (100,000
# deals: the writer ends 8 ms after the planner with 2,000, 25 ms with 4,000, and is as busy.)
CHUNK_ROWS = 2000
HAND_OVER_MASK = 1023
_STAGE = POS["deal"]["stage_id"]


@dataclass
class DealChunk:
    """New deals handed to the writer while the rest of the file is planned (`stream`), with the
    companies and contacts planned since the last chunk."""

    rows: list[list[Any]]  # in DEAL_COLS order: consecutive new ids, or (`rewrite`) any
    # Their stage changes are `stage_history(rows, through)`, numbered from first_change: the
    # writer builds them (it has time to spare; the planning process has none).
    through: dict[int, int]
    first_change: int
    links: list[tuple[int, int]]  # (deal, tag) for new deals, maybe repeated
    companies: list[list[Any]] = field(default_factory=list)  # new ones, in COMPANY_COLS order
    contacts: list[list[Any]] = field(default_factory=list)  # new ones, in CONTACT_COLS order
    rewrite: bool = False  # rows handed over before that later rows of the file changed
    custom: list[tuple[int, int, str]] = field(default_factory=list)  # (field id, deal id, value) of these deals


class Handover(Protocol):
    """Where the planner hands new deals over while it plans (`stream.Fork`)."""

    # New deals from which handing over starts: when the import will drop the deal indexes
    # (at least as many new deals as the table holds, and BULK_MIN_ROWS).
    threshold: int

    def begin(self, planner: Any) -> None:
        """Called once, when handing over starts, with the `planner.Planner`: sets
        `planner.handing.send`. (`stream.Fork` forks here: the child plans the rest and the parent
        writes; neither returns.) Returning without setting it means no hand-over: the planner
        goes on alone."""


class PlannedElsewhere(Exception):  # noqa: N818 (not an error: how a writing parent gets its plan)
    """Raised through the planner in a process whose child planned the rest of the file."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("planned in a child process")
        self.plan = plan


class DealHandover:
    """What of the plan went to the writer so far, and the next chunk of it.

    `through` (new deal -> the open stage it passed) and `links` (entity -> new links) are the
    planner's, read here as they grow."""

    def __init__(self, plan: Plan, through: dict[int, int], links: dict[str, list[tuple[int, int]]]) -> None:
        self.plan = plan
        self.tables = plan.tables
        self.through = through
        self.links = links
        self.target: Handover | None = None  # set for a deals file that may hand over
        self.send: Callable[[DealChunk], None] | None = None  # where chunks go, once handing over began
        self.streaming = False
        self.streamed_to = self.tables["deal"].first_new  # new deals below this id were handed over
        # companies and contacts go with the deals: below these ids they were handed over
        self.sent_to = {e: self.tables[e].first_new for e in ("company", "contact")}
        self.rewrite: set[int] = set()  # deals handed over that later rows changed
        self.rewritten: dict[str, set[int]] = {e: set() for e in ("company", "contact")}
        self.links_sent = 0  # of links["deal"]
        self.next_change = plan.first_stage_change

    def note_change(self, entity: str, rid: int) -> None:
        """A company or contact changed: one handed over already goes again at the end."""
        if entity in self.sent_to and self.tables[entity].first_new <= rid < self.sent_to[entity]:
            self.rewritten[entity].add(rid)

    def _doomed(self) -> bool:
        """The import will stop before writing (`apply._check`): writing more is wasted."""
        plan, options = self.plan, self.plan.options
        return bool((plan.rejects and not options.skip_invalid)
                    or (plan.unknown_stages and not options.create_stages))

    def hand_over(self, planner: Any, final: bool = False) -> None:
        """Hand the new deals planned since the last chunk over when there are enough (or, with
        `final`, any); the first time, start handing over (`Handover.begin`, given `planner`)."""
        target = self.target
        if target is None:
            return
        if self._doomed():
            self.target = None
            return
        t = self.tables["deal"]
        start, stop = self.streamed_to, t.next_id
        if not self.streaming:
            if final or stop - t.first_new < target.threshold:
                return
            self.streaming = True
            target.begin(planner)
            if self.send is None:  # it could not start (no process to fork): plan here, as for a small file
                self.streaming = False
                self.target = None
                return
        if stop - start < CHUNK_ROWS and not (final and self._unsent()):
            return
        links = self.links.get("deal", [])
        rows = [t.rows[did] for did in range(start, stop)]
        through, first = self._reserve_changes(rows)
        chunk = DealChunk(rows, through, first, links[self.links_sent:],
                          companies=self._new_since("company"), contacts=self._new_since("contact"),
                          custom=self._custom_of(range(start, stop)))
        self.links_sent = len(links)
        self.streamed_to = stop
        assert self.send is not None, "Handover.begin sets where chunks go"
        self.send(chunk)

    def _unsent(self) -> bool:
        return self.streamed_to < self.tables["deal"].next_id or any(
            self.sent_to[entity] < self.tables[entity].next_id for entity in self.sent_to)

    def _new_since(self, entity: str) -> list[list[Any]]:
        """The `entity` records planned since the last hand-over (marked as handed over)."""
        t = self.tables[entity]
        start, self.sent_to[entity] = self.sent_to[entity], t.next_id
        return [t.rows[rid] for rid in range(start, t.next_id)]

    def _custom_of(self, deals: range | list[int]) -> list[tuple[int, int, str]]:
        """The custom values of `deals`, as (field id, deal id, value), taken out of the plan: a
        later row of one of them gives only what it changes, written over these."""
        custom = self.tables["deal"].custom
        if not custom:
            return []
        return [(fid, did, value) for did in deals if (values := custom.pop(did, None))
                for fid, value in values.items()]

    def _reserve_changes(self, rows: list[list[Any]]) -> tuple[dict[int, int], int]:
        """For a hand-over of `rows`: the open stages they passed (`stage_history`), and the id of
        their first stage change; the ids after it are theirs (one change each, two for a deal
        that passed an open stage)."""
        through_of = self.through
        through = {row[0]: through_of[row[0]] for row in rows if row[0] in through_of} if through_of else {}
        first = self.next_change
        self.next_change += len(rows) + sum(1 for row in rows if row[0] in through and through[row[0]] != row[_STAGE])
        return through, first

    def finish(self, planner: Any) -> None:
        """Hand over the last new deals, and again those that later rows changed."""
        self.hand_over(planner, final=True)
        if self.target is None:  # doomed: the import stops before writing
            self.plan.stream_broken = True
            return
        rows = self.tables["deal"].rows
        rewrite = sorted(self.rewrite)
        co, ct = (self.tables[e].rows for e in ("company", "contact"))
        companies = [co[rid] for rid in sorted(self.rewritten["company"])]
        contacts = [ct[rid] for rid in sorted(self.rewritten["contact"])]
        if rewrite or companies or contacts:
            assert self.send is not None
            again = [rows[did] for did in rewrite]
            self.send(DealChunk(again, *self._reserve_changes(again), [], companies=companies,
                                contacts=contacts, rewrite=True, custom=self._custom_of(rewrite)))
        self.plan.streamed_from_change = self.plan.first_stage_change
        self.plan.first_stage_change = self.next_change
        self.links["deal"] = self.links.get("deal", [])[self.links_sent:]
