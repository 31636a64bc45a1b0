"""Follow-ups: what needs doing today, by the rules in settings.

Rules (settings.py): a new deal gets a "Follow up" task; an open deal with no activity for
`stale-days` and no task ahead is stale; a deal in its stage longer than the stage's expected days
is aging; an open deal without an open task has no next step; an expected close within
`closing-soon-days` is closing soon, a past one is overdue. A snoozed deal (snoozed_until after
today) raises no alerts until that day; its explicit tasks still show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from crmtui.store import clock
from crmtui.store.settings import all_settings
from crmtui.store.sql import Session

SECTIONS = {
    "overdue_tasks": "Overdue tasks",
    "due_today": "Due today",
    "stale": "Stale deals",
    "aging": "Aging deals",
    "no_next_step": "No next step",
    "closing": "Closing soon or overdue",
}


@dataclass
class AgendaItem:
    section: str
    deal_id: int | None
    title: str
    customer: str | None
    reason: str
    stage: str | None = None
    task_id: int | None = None
    task: str | None = None
    date: dt.date | None = None
    amount_cents: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["date"] = self.date.isoformat() if self.date else None
        out["amount"] = None if self.amount_cents is None else f"{self.amount_cents / 100:.2f}"
        return out


@dataclass
class Agenda:
    today: dt.date
    rules: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[AgendaItem]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def deal_ids(self) -> list[int]:
        """Every deal that needs attention, once, in section order (the triage queue)."""
        seen: dict[int, None] = {}
        for name in SECTIONS:
            for item in self.items.get(name, []):
                if item.deal_id is not None:
                    seen.setdefault(item.deal_id)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "total": self.total,
            "counts": self.counts,
            "sections": {name: [i.to_json() for i in self.items.get(name, [])] for name in SECTIONS},
        }


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


_TASKS_SQL = """
SELECT a.id, a.body, a.due_on, a.deal_id, d.title, coalesce(c.name, p.name, dc.name, dp.name) AS customer,
       s.name AS stage, d.amount_cents
FROM activity a INDEXED BY ix_activity_open_tasks
LEFT JOIN deal d ON d.id = a.deal_id
LEFT JOIN stage s ON s.id = d.stage_id
LEFT JOIN company dc ON dc.id = d.company_id
LEFT JOIN contact dp ON dp.id = d.contact_id
LEFT JOIN company c ON c.id = a.company_id AND a.deal_id IS NULL
LEFT JOIN contact p ON p.id = a.contact_id AND a.deal_id IS NULL
WHERE a.kind = 'task' AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.due_on <= :today
  AND (a.deal_id IS NULL OR d.deleted_at IS NULL)
ORDER BY a.due_on, a.id
LIMIT :limit
"""
_TASK_COUNTS_SQL = """
SELECT count(CASE WHEN a.due_on < :today THEN 1 END), count(CASE WHEN a.due_on = :today THEN 1 END)
FROM activity a INDEXED BY ix_activity_open_tasks LEFT JOIN deal d ON d.id = a.deal_id
WHERE a.kind = 'task' AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.due_on <= :today
  AND (a.deal_id IS NULL OR d.deleted_at IS NULL)
"""

_NOT_SNOOZED = "(d.snoozed_until IS NULL OR d.snoozed_until <= :today)"

# Each rule is answered from its own partial index on deal (schema 5): counting reads no deal rows.
_RULES = {
    "stale": ("ix_deal_touch", "d.last_touch_at < :stale_before AND coalesce(d.last_task_due, '') < :today",
              "d.last_touch_at, d.id"),
    "no_next_step": ("ix_deal_no_task", "d.open_tasks = 0", "d.id"),
    "closing": ("ix_deal_close", "d.expected_close <= :soon", "d.expected_close, d.id"),
}


def _open_stages(session: Session) -> list[tuple[int, str, int | None]]:
    return [
        tuple(r)
        for r in session.execute(
            "SELECT id, name, expected_days FROM stage WHERE kind = 'open' AND deleted_at IS NULL"
        )
    ]


def _deal_facts(session: Session, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = session.execute(
        "SELECT d.id, d.title, coalesce(c.name, p.name) AS customer, s.name AS stage, d.amount_cents,"
            " d.expected_close, date(d.last_touch_at) AS touched_on, date(d.stage_entered_at) AS entered_on,"
            " s.expected_days"
            " FROM deal d JOIN stage s ON s.id = d.stage_id LEFT JOIN company c ON c.id = d.company_id"
            " LEFT JOIN contact p ON p.id = d.contact_id WHERE d.id IN (%s)" % ",".join(str(int(i)) for i in ids)
    )
    return {r["id"]: r for r in rows}


def compute_agenda(session: Session, *, today: dt.date | None = None, limit: int | None = 200) -> Agenda:
    """Everything that needs attention today, per section, each row saying why.

    Counts are always complete; `limit` caps the rows listed per section (most urgent first).
    """
    today = today or clock.today()
    rules = all_settings(session)
    agenda = Agenda(today=today, rules=rules, items={name: [] for name in SECTIONS})
    iso_today = today.isoformat()

    overdue, due_today = session.execute(_TASK_COUNTS_SQL, {"today": iso_today}).fetchone()
    agenda.counts["overdue_tasks"], agenda.counts["due_today"] = overdue, due_today
    # Due today first in its own section; the overdue list is the oldest first.
    task_rows = list(session.execute(_TASKS_SQL.replace("a.due_on <= :today", "a.due_on = :today"),
                                  {"today": iso_today, "limit": -1 if limit is None else limit}))
    task_rows += list(session.execute(_TASKS_SQL.replace("a.due_on <= :today", "a.due_on < :today"),
                                   {"today": iso_today, "limit": -1 if limit is None else limit}))
    for task_id, body, due_on, deal_id, title, customer, stage, amount in task_rows:
        due = dt.date.fromisoformat(str(due_on))
        late = (today - due).days
        section = "due_today" if late == 0 else "overdue_tasks"
        reason = "due today" if late == 0 else f"was due {_days(late)} ago"
        agenda.items[section].append(
            AgendaItem(section, deal_id, title or body, customer, f"task “{body}” {reason}", stage, task_id, body, due,
                       amount)
        )

    stages = _open_stages(session)
    stage_ids = ",".join(str(int(s[0])) for s in stages) or "NULL"
    params = {
        "today": iso_today,
        # untouched for N days or more: last touch before the start of day (today - N + 1)
        "stale_before": (today - dt.timedelta(days=int(rules["stale-days"]) - 1)).isoformat(),
        "soon": (today + dt.timedelta(days=int(rules["closing-soon-days"]))).isoformat(),
        "limit": -1 if limit is None else limit,
    }
    picked: dict[str, list[int]] = {}
    for name, (index, condition, order) in _RULES.items():
        where = f"d.deleted_at IS NULL AND d.stage_id IN ({stage_ids}) AND {_NOT_SNOOZED} AND {condition}"
        agenda.counts[name] = session.execute(
            f"SELECT count(*) FROM deal d INDEXED BY {index} WHERE {where}", params
        ).scalar()
        picked[name] = [
            r[0]
            for r in session.execute(
                f"SELECT d.id FROM deal d INDEXED BY {index} WHERE {where} ORDER BY {order} LIMIT :limit", params
            )
        ]
    # Aging: each stage has its own expected days, so one range per stage on ix_deal_entered.
    aging_parts = [
        f"(d.stage_id = {int(sid)} AND d.stage_entered_at < '{(today - dt.timedelta(days=int(days))).isoformat()}')"
        for sid, _name, days in stages
        if days is not None
    ]
    if aging_parts:
        where = f"d.deleted_at IS NULL AND {_NOT_SNOOZED} AND ({' OR '.join(aging_parts)})"
        agenda.counts["aging"] = session.execute(
            f"SELECT count(*) FROM deal d INDEXED BY ix_deal_entered WHERE {where}", params
        ).scalar()
        picked["aging"] = [
            r[0]
            for r in session.execute(
                f"SELECT d.id FROM deal d INDEXED BY ix_deal_entered WHERE {where}"
                    " ORDER BY d.stage_entered_at, d.id LIMIT :limit",
                params,
            )
        ]
    else:
        agenda.counts["aging"], picked["aging"] = 0, []

    facts = _deal_facts(session, sorted({i for ids in picked.values() for i in ids}))
    for name in ("stale", "aging", "no_next_step", "closing"):
        for deal_id in picked[name]:
            f = facts[deal_id]
            agenda.items[name].append(_deal_item(name, f, today))
    agenda.counts = {name: agenda.counts[name] for name in SECTIONS}
    return agenda


def _deal_item(section: str, f: Any, today: dt.date) -> AgendaItem:
    if section == "stale":
        touched = dt.date.fromisoformat(f["touched_on"])
        reason, when = f"no activity for {_days((today - touched).days)}", touched
    elif section == "aging":
        entered = dt.date.fromisoformat(f["entered_on"])
        reason = f"in {f['stage']} for {_days((today - entered).days)} (expected {f['expected_days']})"
        when = entered
    elif section == "no_next_step":
        reason, when = "no open task", None
    else:
        when = dt.date.fromisoformat(str(f["expected_close"]))
        ahead = (when - today).days
        if ahead < 0:
            reason = f"expected close was {_days(-ahead)} ago"
        else:
            reason = f"expected close {'today' if ahead == 0 else 'in ' + _days(ahead)}"
    return AgendaItem(section, f["id"], f["title"], f["customer"], reason, f["stage"], date=when,
                      amount_cents=f["amount_cents"])


def add_follow_up_task(session: Session, deal_id: int, *, days: int | None = None) -> int:
    """Add the "Follow up" task to a new deal, due in `follow-up-days` (or `days`). Returns its id."""
    from crmtui.store.models import Activity, Deal

    if days is None:
        days = int(all_settings(session)["follow-up-days"])
    deal = session.get(Deal, deal_id)
    now = clock.utcnow()
    task = Activity(
        kind="task", body="Follow up", deal_id=deal_id, company_id=deal.company_id if deal else None,
        contact_id=deal.contact_id if deal else None, occurred_at=now, created_at=now,
        due_on=clock.today() + dt.timedelta(days=days),
    )
    session.add(task)
    return task.id


def wants_follow_up(session: Session, *, imported: bool = False) -> bool:
    """Whether the rules say a new deal gets a follow-up task (imports have their own switch)."""
    rules = all_settings(session)
    return bool(rules["follow-up-on-new-deals"] and (rules["follow-up-on-import"] or not imported))


def attention_queue(session: Session, *, today: dt.date | None = None, limit: int = 2000) -> list[int]:
    """Deals that need attention, each once, most urgent first: the triage queue.

    Order: deals with overdue tasks, tasks due today, then stale, aging, no next step, closing.
    """
    agenda = compute_agenda(session, today=today, limit=limit)
    return agenda.deal_ids[:limit]


def deal_flags(session: Session, deal_id: int, *, today: dt.date | None = None) -> list[str]:
    """Why one deal is on the agenda (empty when it isn't): the same rules, for one deal."""
    today = today or clock.today()
    rules = all_settings(session)
    row = session.execute(
        "SELECT d.deleted_at, s.kind, s.name AS stage, s.expected_days, d.expected_close, d.snoozed_until,"
            " date(d.last_touch_at) AS touched_on, date(d.stage_entered_at) AS entered_on, d.open_tasks,"
            " d.last_task_due FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = :id",
        {"id": deal_id},
    ).fetchone()
    if row is None or row["deleted_at"] is not None:
        return []
    reasons = []
    iso = today.isoformat()
    for body, due_on in session.execute(
        "SELECT body, due_on FROM activity WHERE deal_id = :id AND kind = 'task' AND done_at IS NULL"
            " AND deleted_at IS NULL AND due_on <= :today ORDER BY due_on, id",
        {"id": deal_id, "today": iso},
    ):
        late = (today - dt.date.fromisoformat(str(due_on))).days
        reasons.append(f"task “{body}” " + ("due today" if late == 0 else f"was due {_days(late)} ago"))
    snoozed = row["snoozed_until"] is not None and str(row["snoozed_until"]) > iso
    if row["kind"] != "open" or snoozed:
        if snoozed:
            reasons.append(f"snoozed until {row['snoozed_until']}")
        return reasons
    untouched = (today - dt.date.fromisoformat(row["touched_on"])).days
    if untouched >= int(rules["stale-days"]) and (row["last_task_due"] is None or str(row["last_task_due"]) < iso):
        reasons.append(f"no activity for {_days(untouched)}")
    in_stage = (today - dt.date.fromisoformat(row["entered_on"])).days
    if row["expected_days"] is not None and in_stage > row["expected_days"]:
        reasons.append(f"in {row['stage']} for {_days(in_stage)} (expected {row['expected_days']})")
    if not row["open_tasks"]:
        reasons.append("no next step (no open task)")
    if row["expected_close"] is not None:
        close = dt.date.fromisoformat(str(row["expected_close"]))
        ahead = (close - today).days
        if ahead < 0:
            reasons.append(f"expected close was {_days(-ahead)} ago")
        elif ahead <= int(rules["closing-soon-days"]):
            reasons.append("expected close " + ("today" if ahead == 0 else f"in {_days(ahead)}"))
    return reasons
