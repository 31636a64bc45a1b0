"""The pipeline board's data: columns of deals per stage, sorted and filtered, paged by id.

A board is loaded as a `BoardSnapshot`: for every column the ordered deal ids with their sort
keys and amounts (a few integers per deal, never a row object), so column counts and sums are
known without another query and moving the cursor costs nothing. Card details (title, customer,
next task, ...) are read from SQLite only for the cards on screen, by id, and cached.

After a change the board does not reload: `BoardData.resync` takes the changed deals out of their
columns and puts them back where their new stage and sort key say, adjusting the column totals.
A full reload (filter, sort, pipeline, another process changed the file) builds a new snapshot,
which takes a query per board and can run in a worker thread with its own connection.

Plain sqlite3 on purpose: this is the hot path of the app, and it never imports Textual.
"""

from __future__ import annotations

import bisect
import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crmtui.store import clock

# Sort modes inside columns: label, SQL key expression, tiebreak direction on the id.
# Keys sort ascending in Python and SQL alike, so the Python tuple (key, tiebreak * id) places a
# deal exactly where `ORDER BY key, tiebreak * id` would.
SORTS: dict[str, tuple[str, str, int]] = {
    "close": ("expected close", "coalesce(d.expected_close, '9999-12-31')", 1),
    "amount": ("amount", "-d.amount_cents", -1),
    "age": ("days in stage", "d.stage_entered_at", 1),
    "updated": ("recently updated", "-julianday(d.updated_at)", -1),
}
SORT_ORDER = tuple(SORTS)
# In the won/lost/closed columns "expected close" means the close date, newest first.
CLOSED_KEYS = {"close": "-julianday(d.closed_on)"}
CLOSED_DAYS = 30  # closed columns show deals closed this many days back


@dataclass(frozen=True)
class BoardStage:
    id: int
    name: str
    kind: str
    probability: int
    expected_days: int | None
    position: int
    color: str | None = None  # a Rich colour; None: the column's usual colours

    @property
    def is_open(self) -> bool:
        return self.kind == "open"


@dataclass(frozen=True)
class BoardFilter:
    """What `/` typed: words match title, company, contact or a tag; `#word` a tag (by prefix)."""

    text: str = ""
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> BoardFilter:
        words, tags = [], []
        for part in text.split():
            if part.startswith("#"):
                if part.strip("#"):
                    tags.append(part.lstrip("#"))
            else:
                words.append(part)
        return cls(" ".join(text.split()), tuple(words), tuple(tags))

    def __bool__(self) -> bool:
        return bool(self.words or self.tags)

    def where(self) -> tuple[list[str], dict[str, Any]]:
        """SQL conditions (over `deal d`, `company c`, `contact p`) and their bound parameters."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        tag_match = (
            "EXISTS (SELECT 1 FROM deal_tag dt JOIN tag t ON t.id = dt.tag_id"
            " WHERE dt.deal_id = d.id AND t.name LIKE :{0} ESCAPE '\\')"
        )
        for i, word in enumerate(self.words):
            key = f"w{i}"
            params[key] = f"%{_escape_like(word)}%"
            clauses.append(
                f"(d.title LIKE :{key} ESCAPE '\\' OR c.name LIKE :{key} ESCAPE '\\'"
                f" OR p.name LIKE :{key} ESCAPE '\\' OR {tag_match.format(key)})"
            )
        for i, tag in enumerate(self.tags):
            key = f"t{i}"
            params[key] = f"{_escape_like(tag)}%"
            clauses.append(tag_match.format(key))
        return clauses, params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Column:
    """One stage's deals in display order, with the totals its header shows."""

    stage: BoardStage
    ids: list[int] = field(default_factory=list)
    keys: list[tuple[Any, int]] = field(default_factory=list)
    amounts: dict[int, int] = field(default_factory=dict)
    amount_cents: int = 0

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def weighted_cents(self) -> int:
        return self.amount_cents * self.stage.probability // 100

    def insert(self, deal_id: int, key: tuple[Any, int], amount_cents: int) -> int:
        index = bisect.bisect_left(self.keys, key)
        self.keys.insert(index, key)
        self.ids.insert(index, deal_id)
        self.amounts[deal_id] = amount_cents
        self.amount_cents += amount_cents
        return index

    def remove(self, deal_id: int, hint: int | None = None) -> int | None:
        """Take a deal out; returns where it was (None when it is not in this column)."""
        if deal_id not in self.amounts:
            return None
        if hint is not None and 0 <= hint < len(self.ids) and self.ids[hint] == deal_id:
            index = hint
        else:
            index = self.ids.index(deal_id)
        del self.ids[index]
        del self.keys[index]
        self.amount_cents -= self.amounts.pop(deal_id)
        return index

    def index_of(self, deal_id: int) -> int | None:
        if deal_id not in self.amounts:
            return None
        return self.ids.index(deal_id)


@dataclass(frozen=True)
class Card:
    """What a card shows, looked up live (the customer's name from its company or contact)."""

    id: int
    stage_id: int
    title: str
    customer: str
    amount_cents: int
    currency: str | None
    confidence: int | None
    stage_entered: dt.date
    expected_close: dt.date | None
    closed_on: dt.date | None
    lost_reason: str | None
    next_due: dt.date | None

    def days_in_stage(self, today: dt.date) -> int:
        return max(0, (today - self.stage_entered).days)


@dataclass
class BoardSnapshot:
    pipeline_id: int
    pipeline_name: str
    pipelines: list[tuple[int, str]]
    stages: list[BoardStage]
    columns: dict[int, Column]
    sort: str
    filter: BoardFilter
    closed_since: dt.date
    has_deals: bool  # any live deal in the database (else the board explains how to start)

    def open_totals(self) -> tuple[int, int, int]:
        """Deals, amount and weighted amount over the open columns (what the filter shows)."""
        cols = [self.columns[s.id] for s in self.stages if s.is_open]
        return sum(c.count for c in cols), sum(c.amount_cents for c in cols), sum(c.weighted_cents for c in cols)


def _pipelines(conn: sqlite3.Connection) -> list[tuple[int, str, bool]]:
    return conn.execute(
        "SELECT id, name, is_default FROM pipeline WHERE deleted_at IS NULL ORDER BY position, id"
    ).fetchall()


def board_stages(conn: sqlite3.Connection, pipeline_id: int) -> list[BoardStage]:
    """The stages of a pipeline in order."""
    rows = conn.execute(
        "SELECT id, name, kind, probability, expected_days, position, color FROM stage"
        " WHERE pipeline_id = ? AND deleted_at IS NULL ORDER BY position, id",
        (pipeline_id,),
    ).fetchall()
    return [BoardStage(*r) for r in rows]


def _entry_sql(sort: str, flt: BoardFilter, *, closed: bool | None = False) -> tuple[str, dict[str, Any]]:
    """SELECT stage_id, id, sort key, amount of the deals a board shows (WHERE left open-ended).

    `closed`: the key for a closed column (True), an open one (False), or either by the deal's
    stage (None)."""
    _label, key_sql, tiebreak = SORTS[sort]
    closed_key = CLOSED_KEYS.get(sort, key_sql)
    if closed:
        key_sql = closed_key
    elif closed is None and closed_key != key_sql:
        key_sql = (
            f"CASE WHEN (SELECT kind FROM stage WHERE id = d.stage_id) = 'open' THEN {key_sql} ELSE {closed_key} END"
        )
    clauses, params = flt.where()
    joins = ""
    if flt:
        joins = " LEFT JOIN company c ON c.id = d.company_id LEFT JOIN contact p ON p.id = d.contact_id"
    sql = (
        f"SELECT d.stage_id, d.id, {key_sql} AS k, d.amount_cents FROM deal d{joins}"
        " WHERE d.deleted_at IS NULL" + "".join(f" AND {c}" for c in clauses)
    )
    params["tiebreak"] = tiebreak
    return sql, params


def load_board(
    conn: sqlite3.Connection,
    *,
    pipeline_id: int | None = None,
    sort: str = "close",
    flt: BoardFilter | None = None,
    closed_days: int = CLOSED_DAYS,
    today: dt.date | None = None,
) -> BoardSnapshot:
    """Every column of a pipeline (the default one when None or gone): ordered ids and totals.

    Open stages hold all their deals; won/lost/closed stages those closed in the last
    `closed_days` days. One indexed query per stage (an index that leads with the stage for open
    stages, the close-date index `ix_deal_closed` for closed ones).
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    flt = flt or BoardFilter()
    today = today or clock.today()
    since = today - dt.timedelta(days=closed_days)
    pipelines = _pipelines(conn)
    if not pipelines:
        raise LookupError("the database has no pipeline")
    chosen = next((p for p in pipelines if p[0] == pipeline_id), None)
    chosen = chosen or next((p for p in pipelines if p[2]), pipelines[0])
    stages = board_stages(conn, chosen[0])
    open_base, params = _entry_sql(sort, flt)
    closed_base, _params = _entry_sql(sort, flt, closed=True)
    tiebreak = params["tiebreak"]
    columns: dict[int, Column] = {}
    for stage in stages:
        column = Column(stage)
        if stage.is_open:
            sql = open_base + " AND d.stage_id = :stage"
        else:
            # `+d.stage_id` leaves the stage index out: the close-date index finds the recent few.
            sql = closed_base + " AND +d.stage_id = :stage AND d.closed_on >= :since"
        rows = conn.execute(
            sql + " ORDER BY k, d.id * :tiebreak", {**params, "stage": stage.id, "since": since.isoformat()}
        ).fetchall()
        column.ids = [r[1] for r in rows]
        column.keys = [(r[2], tiebreak * r[1]) for r in rows]
        column.amounts = {r[1]: r[3] for r in rows}
        column.amount_cents = sum(column.amounts.values())
        columns[stage.id] = column
    has_deals = any(c.count for c in columns.values()) or bool(
        conn.execute("SELECT EXISTS (SELECT 1 FROM deal WHERE deleted_at IS NULL)").fetchone()[0]
    )
    return BoardSnapshot(
        pipeline_id=chosen[0],
        pipeline_name=chosen[1],
        pipelines=[(p[0], p[1]) for p in pipelines],
        stages=stages,
        columns=columns,
        sort=sort,
        filter=flt,
        closed_since=since,
        has_deals=has_deals,
    )


_CARD_SQL = """
SELECT d.id, d.stage_id, d.title, coalesce(c.name, p.name, ''), d.amount_cents, d.currency, d.confidence,
       d.stage_entered_at, d.expected_close, d.closed_on, d.lost_reason,
       (SELECT min(a.due_on) FROM activity a WHERE a.deal_id = d.id AND a.kind = 'task'
         AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.due_on IS NOT NULL)
FROM deal d
LEFT JOIN company c ON c.id = d.company_id
LEFT JOIN contact p ON p.id = d.contact_id
WHERE d.id IN ({})
"""


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def fetch_cards(conn: sqlite3.Connection, deal_ids: Iterable[int]) -> dict[int, Card]:
    """Cards for some deals by id (one query)."""
    ids = list(deal_ids)
    out: dict[int, Card] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(_CARD_SQL.format(",".join("?" * len(chunk))), chunk).fetchall()
        for r in rows:
            out[r[0]] = Card(
                id=r[0], stage_id=r[1], title=r[2], customer=r[3], amount_cents=r[4], currency=r[5],
                confidence=r[6], stage_entered=_date(r[7]) or clock.today(), expected_close=_date(r[8]),
                closed_on=_date(r[9]), lost_reason=r[10], next_due=_date(r[11]),
            )
    return out


class BoardData:
    """A loaded board plus the card cache; the screen's model. Not thread-safe: UI thread only."""

    CACHE_LIMIT = 2000

    def __init__(self, conn: sqlite3.Connection, snapshot: BoardSnapshot) -> None:
        self.conn = conn
        self.snapshot = snapshot
        self._cards: dict[int, Card] = {}

    # --- reading ----------------------------------------------------------------------------

    @property
    def stages(self) -> list[BoardStage]:
        return self.snapshot.stages

    def column(self, stage_id: int) -> Column:
        return self.snapshot.columns[stage_id]

    def cards(self, stage_id: int, start: int, count: int) -> list[Card]:
        """The cards at positions [start, start + count) of a column (fetching those not cached)."""
        ids = self.column(stage_id).ids[max(0, start) : max(0, start) + count]
        missing = [i for i in ids if i not in self._cards]
        if missing:
            if len(self._cards) + len(missing) > self.CACHE_LIMIT:
                self._cards.clear()
            self._cards.update(fetch_cards(self.conn, missing))
        return [self._cards[i] for i in ids if i in self._cards]

    def replace(self, snapshot: BoardSnapshot) -> None:
        """Swap in a freshly loaded board; cached cards may be stale, so they go."""
        self.snapshot = snapshot
        self._cards.clear()

    # --- after a change ---------------------------------------------------------------------

    def resync(self, deal_ids: Iterable[int], hints: dict[int, tuple[int, int]] | None = None) -> dict[int, tuple[int, int]]:
        """Put changed deals where they now belong (or out of the board). `hints` maps a deal to
        (stage id, index) where it was, to skip a search. Returns deal -> (stage id, index) for the
        deals now on the board."""
        hints = hints or {}
        ids = list(dict.fromkeys(deal_ids))
        for deal_id in ids:
            self._cards.pop(deal_id, None)
            stage_id, index = hints.get(deal_id, (None, None))
            if stage_id in self.snapshot.columns and self.column(stage_id).remove(deal_id, index) is not None:
                continue
            for column in self.snapshot.columns.values():
                if column.remove(deal_id) is not None:
                    break
        placed: dict[int, tuple[int, int]] = {}
        for deal_id, stage_id, key, amount in self._entries(ids):
            column = self.snapshot.columns.get(stage_id)
            if column is not None:
                placed[deal_id] = (stage_id, column.insert(deal_id, key, amount))
        if placed:
            self.snapshot.has_deals = True
        return placed

    def _entries(self, deal_ids: list[int]) -> list[tuple[int, int, tuple[Any, int], int]]:
        snap = self.snapshot
        base, params = _entry_sql(snap.sort, snap.filter, closed=None)
        tiebreak = params["tiebreak"]
        sql = (
            base + " AND d.pipeline_id = :pipeline AND d.id IN ({})".format(",".join(f":id{i}" for i in range(len(deal_ids))))
            + " AND ((SELECT kind FROM stage WHERE id = d.stage_id) = 'open' OR d.closed_on >= :since)"
        )
        params.update({f"id{i}": v for i, v in enumerate(deal_ids)})
        params.update(pipeline=snap.pipeline_id, since=snap.closed_since.isoformat())
        rows = self.conn.execute(sql, params).fetchall() if deal_ids else []
        return [(r[1], r[0], (r[2], tiebreak * r[1]), r[3]) for r in rows]


def company_suggestion(conn: sqlite3.Connection, prefix: str) -> str | None:
    """The first live company whose name starts with `prefix` (quick-add completion)."""
    prefix = prefix.strip()
    if not prefix:
        return None
    row = conn.execute(
        "SELECT name FROM company WHERE name LIKE ? ESCAPE '\\' AND deleted_at IS NULL"
        " ORDER BY name COLLATE NOCASE LIMIT 1",
        (_escape_like(prefix) + "%",),
    ).fetchone()
    return row[0] if row else None


def lost_reasons(conn: sqlite3.Connection) -> list[str]:
    """The editable list of lost reasons, in order."""
    return [
        r[0]
        for r in conn.execute("SELECT value FROM choice WHERE list_name = 'lost_reason' ORDER BY position, id")
    ]
