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
from crmtui.store.board_fields import (
    BUILTIN,
    DEFAULT_LAYOUT,
    CardLayout,
    SortSpec,
    builtin_field,
    card_layout,
    custom_sort,
    field_sort,
    field_term,
    find_field,
    split_filter,
    term_condition,
)
from crmtui.store.errors import ValidationError

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
# Built-in fields whose sort is one of SORTS.
_FIELD_SORTS = {"amount": "amount", "expected_close": "close"}
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
    """What `/` typed: words match title, company, contact or a tag; `#word` a tag (by prefix);
    `field:value`, `field>N` ... a deal field (see `board_fields.term_condition`)."""

    text: str = ""
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # (SQL, its parameters) per field term

    @classmethod
    def parse(cls, text: str, conn: sqlite3.Connection | None = None) -> BoardFilter:
        """Read a filter. Field terms need the database (`conn`) to know the fields; a wrong
        field or value raises ValidationError naming it."""
        words, tags, fields = [], [], []
        for part in split_filter(text):
            term = field_term(part)
            if part.startswith("#"):
                if tag := part.lstrip("#").replace('"', ""):
                    tags.append(tag)
            elif term is not None:
                if conn is None:
                    raise ValidationError(f"{part!r}: a field term needs the database", "filter")
                sql, params = term_condition(conn, *term, param=f"f{len(fields)}")
                fields.append((sql, tuple(params.items())))
            elif word := part.replace('"', ""):  # a quoted phrase is one word
                words.append(word)
        return cls(" ".join(text.split()), tuple(words), tuple(tags), tuple(fields))

    def __bool__(self) -> bool:
        return bool(self.words or self.tags or self.fields)

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
        for sql, term_params in self.fields:
            clauses.append(sql)
            params.update(term_params)
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
    extra: tuple[Any, ...] = ()  # the values of the layout's card fields, as stored

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
    sort_spec: SortSpec | None = None  # how `sort` orders the columns (None: SORTS[sort])
    layout: CardLayout = DEFAULT_LAYOUT  # what the cards show

    @property
    def sort_label(self) -> str:
        return self.sort_spec.label if self.sort_spec else SORTS[self.sort][0]

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


def sort_spec(conn: sqlite3.Connection, sort: str) -> SortSpec:
    """A sort by name: one of SORTS, a built-in deal field (`cost`, `confidence`) or a custom deal
    field (`cf_7`; the usual sort when that field is gone). ValueError for an unknown name."""
    sort = _FIELD_SORTS.get(sort, sort)
    if sort in SORTS:
        label, key_sql, tiebreak = SORTS[sort]
        return SortSpec(sort, label, key_sql, tiebreak, CLOSED_KEYS.get(sort, key_sql))
    if sort.startswith("cf_"):
        return custom_sort(conn, sort) or sort_spec(conn, "close")
    if sort in BUILTIN:
        return field_sort(builtin_field(sort))
    raise ValueError(f"unknown sort {sort!r}")


def find_sort(conn: sqlite3.Connection, name: str) -> str:
    """The sort a person names: a built-in one ("amount", "days in stage") or any deal field."""
    wanted = " ".join(name.replace("_", " ").casefold().split())
    for key, (label, _sql, _tiebreak) in SORTS.items():
        if wanted in (key, label):
            return key
    return _FIELD_SORTS.get((found := find_field(conn, name)).key, found.key)


def _entry_sql(spec: SortSpec, flt: BoardFilter, *, closed: bool | None = False) -> tuple[str, dict[str, Any]]:
    """SELECT stage_id, id, sort key, amount of the deals a board shows (WHERE left open-ended).

    `closed`: the key for a closed column (True), an open one (False), or either by the deal's
    stage (None)."""
    key_sql, closed_key = spec.sql, spec.closed_sql
    if closed:
        key_sql = closed_key
    elif closed is None and closed_key != key_sql:
        key_sql = (
            f"CASE WHEN (SELECT kind FROM stage WHERE id = d.stage_id) = 'open' THEN {key_sql} ELSE {closed_key} END"
        )
    clauses, params = flt.where()
    joins = ""
    if flt or spec.joins:
        joins = " LEFT JOIN company c ON c.id = d.company_id LEFT JOIN contact p ON p.id = d.contact_id"
    sql = (
        f"SELECT d.stage_id, d.id, {key_sql} AS k, d.amount_cents FROM deal d{joins}"
        " WHERE d.deleted_at IS NULL" + "".join(f" AND {c}" for c in clauses)
    )
    params.update(spec.params)
    params["tiebreak"] = spec.tiebreak
    return sql, params


def _stage_rows(conn: sqlite3.Connection, stages: list[BoardStage], spec: SortSpec, flt: BoardFilter,
                since: dt.date) -> dict[int, list[tuple]]:
    """Each stage's entries in order, a query per stage."""
    open_base, params = _entry_sql(spec, flt)
    closed_base, _params = _entry_sql(spec, flt, closed=True)
    out = {}
    for stage in stages:
        if stage.is_open:
            sql = open_base + " AND d.stage_id = :stage"
        else:
            # `+d.stage_id` leaves the stage index out: the close-date index finds the recent few.
            sql = closed_base + " AND +d.stage_id = :stage AND d.closed_on >= :since"
        out[stage.id] = conn.execute(
            sql + " ORDER BY k, d.id * :tiebreak", {**params, "stage": stage.id, "since": since.isoformat()}
        ).fetchall()
    return out


def _filtered_rows(conn: sqlite3.Connection, stages: list[BoardStage], spec: SortSpec, flt: BoardFilter,
                   since: dt.date) -> dict[int, list[tuple]]:
    """Each stage's entries in order, from one query: a field filter's matching values are read
    once for the board, not once per stage."""
    base, params = _entry_sql(spec, flt, closed=None)
    open_ids = ", ".join(str(s.id) for s in stages if s.is_open) or "NULL"  # ids we read: ints
    closed_ids = ", ".join(str(s.id) for s in stages if not s.is_open) or "NULL"
    sql = (base + f" AND (d.stage_id IN ({open_ids}) OR (d.stage_id IN ({closed_ids}) AND d.closed_on >= :since))"
           " ORDER BY k, d.id * :tiebreak")
    out: dict[int, list[tuple]] = {}
    for row in conn.execute(sql, {**params, "since": since.isoformat()}):
        out.setdefault(row[0], []).append(row)
    return out


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
    `closed_days` days. `sort` is a name `sort_spec` knows; the cards' layout comes from the
    settings (`board_fields.card_layout`). Otherwise one indexed query per stage (an index that
    leads with the stage for open stages, the close-date index `ix_deal_closed` for closed ones);
    filtered by a field, one query for the whole board, so that the field's matches are read once.
    """
    spec = sort_spec(conn, sort)
    flt = flt or BoardFilter()
    today = today or clock.today()
    since = today - dt.timedelta(days=closed_days)
    pipelines = _pipelines(conn)
    if not pipelines:
        raise LookupError("the database has no pipeline")
    chosen = next((p for p in pipelines if p[0] == pipeline_id), None)
    chosen = chosen or next((p for p in pipelines if p[2]), pipelines[0])
    stages = board_stages(conn, chosen[0])
    rows_of = (_filtered_rows if flt.fields else _stage_rows)(conn, stages, spec, flt, since)
    columns: dict[int, Column] = {}
    for stage in stages:
        column = Column(stage)
        rows = rows_of.get(stage.id, [])
        column.ids = [r[1] for r in rows]
        column.keys = [(r[2], spec.tiebreak * r[1]) for r in rows]
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
        sort=spec.key,
        filter=flt,
        closed_since=since,
        has_deals=has_deals,
        sort_spec=spec,
        layout=card_layout(conn),
    )


_CARD_SQL = """
SELECT d.id, d.stage_id, d.title, {customer}, d.amount_cents, d.currency, d.confidence,
       d.stage_entered_at, d.expected_close, d.closed_on, d.lost_reason,
       (SELECT min(a.due_on) FROM activity a WHERE a.deal_id = d.id AND a.kind = 'task'
         AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.due_on IS NOT NULL){extra}
FROM deal d
LEFT JOIN company c ON c.id = d.company_id
LEFT JOIN contact p ON p.id = d.contact_id
WHERE d.id IN ({ids})
"""


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def fetch_cards(
    conn: sqlite3.Connection, deal_ids: Iterable[int], layout: CardLayout = DEFAULT_LAYOUT
) -> dict[int, Card]:
    """Cards for some deals by id (one query), with what `layout` shows."""
    ids = list(deal_ids)
    out: dict[int, Card] = {}
    extra = "".join(f", {f.sql}" for f in layout.fields)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = _CARD_SQL.format(customer=layout.customer_sql, extra=extra, ids=",".join("?" * len(chunk)))
        for r in conn.execute(sql, chunk).fetchall():
            out[r[0]] = Card(
                id=r[0], stage_id=r[1], title=r[2], customer=r[3], amount_cents=r[4], currency=r[5],
                confidence=r[6], stage_entered=_date(r[7]) or clock.today(), expected_close=_date(r[8]),
                closed_on=_date(r[9]), lost_reason=r[10], next_due=_date(r[11]), extra=tuple(r[12:]),
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
            self._cards.update(fetch_cards(self.conn, missing, self.snapshot.layout))
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
        base, params = _entry_sql(snap.sort_spec or sort_spec(self.conn, snap.sort), snap.filter, closed=None)
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
