"""Setting up pipelines and stages: add, rename, reorder, re-kind, recolour and delete them.

Every change is one undo entry in scope "settings". Pipelines and stages are soft-deleted, so every
stage change still joins to its stage and a deal's history keeps its old stage names. Positions
number every stage of a pipeline, deleted ones too: a deleted stage keeps its place between the
live ones, which is how the funnel counts a deal that passed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.color import Color, ColorParseError

from crmtui.store import backups, clock, undo
from crmtui.store.errors import ValidationError
from crmtui.store.migrations import DEFAULT_STAGES
from crmtui.store.models import STAGE_KINDS, Pipeline, Stage
from crmtui.store.pipelines import find_pipeline, find_stage, list_pipelines, list_stages
from crmtui.store.sql import Session
from crmtui.store.validate import require_text

SCOPE = "settings"
NAME_MAX = 60
MAX_EXPECTED_DAYS = 3650


# --- values as people type them -----------------------------------------------------------------


def clean_probability(value: str | int) -> int:
    """A win probability in percent, 0-100 ("70" or "70%")."""
    text_value = str(value).strip().removesuffix("%").strip()
    if not text_value.isdigit() or int(text_value) > 100:
        raise ValidationError(f"probability: {value!r} is not a percentage from 0 to 100", "probability")
    return int(text_value)


def clean_expected_days(value: str | int | None) -> int | None:
    """Days a deal should sit in a stage, 1-3650; None (or "none") for no aging alert."""
    text_value = "" if value is None else str(value).strip()
    if text_value.lower() in ("", "none", "-"):
        return None
    if not text_value.isdigit() or not 1 <= int(text_value) <= MAX_EXPECTED_DAYS:
        raise ValidationError(
            f"expected days: {value!r} is not a number of days from 1 to {MAX_EXPECTED_DAYS} (or none)",
            "expected_days",
        )
    return int(text_value)


def clean_kind(value: str) -> str:
    """open, won, lost or closed."""
    kind = str(value or "").strip().lower()
    if kind not in STAGE_KINDS:
        raise ValidationError(f"kind: {value!r} is not one of {', '.join(STAGE_KINDS)}", "kind")
    return kind


def clean_color(value: str | None) -> str | None:
    """A colour as Rich and Textual read it: a name (green, dark_orange, bright_cyan) or #rrggbb,
    stored as the name or the hex code; None (or "none", "default") for the colour of its kind."""
    colour = str(value or "").strip().lower()
    if colour in ("", "none", "default"):
        return None
    try:
        parsed = Color.parse(colour)
    except ColorParseError:
        raise ValidationError(
            f"colour: {value!r} is not a colour (give a name such as green, dark_orange or bright_cyan,"
            " or #rrggbb, or none)", "color",
        ) from None
    return parsed.triplet.hex if parsed.triplet else parsed.name


_CLEAN = {"probability": clean_probability, "expected_days": clean_expected_days, "kind": clean_kind,
          "color": clean_color}


def _pipeline_name(session: Session, value: str, *, keep: Pipeline | None = None) -> str:
    name = require_text(value, "pipeline name", max_len=NAME_MAX)
    for p in list_pipelines(session):
        if p.name.casefold() == name.casefold() and p is not keep:
            raise ValidationError(f"pipeline name: there is already a pipeline called {p.name!r}", "name")
    return name


def _stage_name(session: Session, pipe: Pipeline, value: str, *, keep: Stage | None = None) -> str:
    name = require_text(value, "stage name", max_len=NAME_MAX)
    for s in list_stages(session, pipe.id):
        if s.name.casefold() == name.casefold() and s is not keep:
            raise ValidationError(f"stage name: {pipe.name!r} already has a stage called {s.name!r}", "name")
    return name


# --- pipelines ----------------------------------------------------------------------------------


def pipeline_rows(session: Session) -> list[dict[str, Any]]:
    """Every pipeline in order, with its stage count and how many live deals (and open ones) it holds."""
    rows = session.execute("SELECT p.id, p.name, p.is_default,"
        " (SELECT count(*) FROM stage s WHERE s.pipeline_id = p.id AND s.deleted_at IS NULL) AS stages,"
        " (SELECT count(*) FROM deal d WHERE d.pipeline_id = p.id AND d.deleted_at IS NULL) AS deals,"
        " (SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id"
        "   WHERE d.pipeline_id = p.id AND d.deleted_at IS NULL AND s.kind = 'open') AS open_deals"
        " FROM pipeline p WHERE p.deleted_at IS NULL ORDER BY p.position, p.id").fetchall()
    return [{"position": i + 1, "id": r["id"], "name": r["name"], "default": bool(r["is_default"]),
             "stages": r["stages"], "deals": r["deals"], "open_deals": r["open_deals"]} for i, r in enumerate(rows)]


def add_pipeline(session: Session, name: str, *, copy_stages_from: str | int | None = None) -> Pipeline:
    """A new pipeline, last in order, with the stages of `copy_stages_from` (names, kinds,
    probabilities, expected days, colours) or else the default stages."""
    name = _pipeline_name(session, name)
    if copy_stages_from is not None:
        source = find_pipeline(session, copy_stages_from)
        stages = [(s.name, s.kind, s.probability, s.expected_days, s.color) for s in list_stages(session, source.id)]
    else:
        stages = [(n, kind, probability, days, None) for n, kind, probability, days in DEFAULT_STAGES]
    last = session.execute("SELECT max(position) FROM pipeline").scalar()
    pipe = Pipeline(name=name, position=(last or 0) + 1, is_default=False, created_at=clock.utcnow())
    session.add(pipe)
    for position, (stage_name, kind, probability, days, color) in enumerate(stages):
        session.add(Stage(pipeline_id=pipe.id, name=stage_name, position=position, probability=probability,
                          expected_days=days, kind=kind, color=color))
    undo.record(session, f"add pipeline {name}", [{"op": "trash", "table": "pipeline", "id": pipe.id}], scope=SCOPE)
    return pipe


def rename_pipeline(session: Session, pipeline: str | int, new_name: str) -> tuple[str, Pipeline]:
    """Give a pipeline another name (unique among pipelines, any case). Returns the old name too."""
    pipe = find_pipeline(session, pipeline)
    old = pipe.name
    name = _pipeline_name(session, new_name, keep=pipe)
    if name != old:
        op = undo.update_op(session, "pipeline", pipe.id, ["name"])
        pipe.name = name
        session.add(pipe)
        undo.record(session, f"rename pipeline {old}", [op], scope=SCOPE)
    return old, pipe


def set_default_pipeline(session: Session, pipeline: str | int) -> Pipeline:
    """Make a pipeline the one new deals (and the board) start in."""
    pipe = find_pipeline(session, pipeline)
    ops = _pass_default(session, pipe)
    if ops:
        undo.record(session, f"default pipeline {pipe.name}", ops, scope=SCOPE)
    return pipe


def _pass_default(session: Session, pipe: Pipeline) -> list[dict[str, Any]]:
    ops = []
    for p in session.find(Pipeline):
        if bool(p.is_default) != (p.id == pipe.id):
            ops.append(undo.update_op(session, "pipeline", p.id, ["is_default"]))
            p.is_default = p.id == pipe.id
            session.add(p)
    return ops


@dataclass
class PipelineDeleted:
    pipeline: Pipeline
    moved: int  # live deals moved to `target`
    target: Pipeline | None
    new_default: Pipeline | None  # set when the deleted pipeline was the default


def delete_pipeline(
    session: Session, pipeline: str | int, *, move_deals_to: str | int | None = None
) -> PipelineDeleted:
    """Delete a pipeline (soft: its stages stay, for the history). Refused while it holds live
    deals unless `move_deals_to` names another pipeline: each deal then goes to the stage of the
    same name and kind there, else its first stage of the same kind (a lost deal to a closed stage
    when there is no lost one, and back). Deals in the trash go along, so a restore finds them a
    stage. The default passes to `move_deals_to`, else to the first pipeline left. The last
    pipeline cannot be deleted."""
    pipe = find_pipeline(session, pipeline)
    others = [p for p in list_pipelines(session) if p.id != pipe.id]
    if not others:
        raise ValidationError(f"pipeline {pipe.name!r} is the only one: a database keeps at least one pipeline",
                              "pipeline")
    target = find_pipeline(session, move_deals_to) if move_deals_to not in (None, "") else None
    if target is not None and target.id == pipe.id:
        raise ValidationError(f"move deals to: {target.name!r} is the pipeline being deleted", "move_deals_to")
    live = _count(session, "pipeline_id = :id AND deleted_at IS NULL", pipe.id)
    if live and target is None:
        raise ValidationError(
            f"pipeline {pipe.name!r} holds {_deals(live)}: give --move-deals-to PIPELINE to move them, or move"
            " each to another pipeline first (crmtui set ID pipeline=NAME)", "pipeline")
    heir = target or others[0]
    plan = _pipeline_moves(session, pipe, heir, trashed_only=target is None)
    ops: list[dict[str, Any]] = [{"op": "restore", "table": "pipeline", "id": pipe.id}]
    new_default = None
    if pipe.is_default:
        new_default = heir
        ops += _pass_default(session, heir)
    backups.backup_before(session, "before-pipeline-delete")
    pipe.deleted_at = clock.utcnow()
    session.add(pipe)
    moved = 0
    for source, stage in plan:
        n, deal_ops = _move_deals(session, source, stage, trashed_only=target is None)
        moved += n
        ops += deal_ops
    undo.record(session, f"delete pipeline {pipe.name}", ops, scope=SCOPE)
    return PipelineDeleted(pipe, moved, target, new_default)


def _pipeline_moves(
    session: Session, pipe: Pipeline, heir: Pipeline, *, trashed_only: bool
) -> list[tuple[Stage, Stage]]:
    """(stage of `pipe`, stage of `heir`) for every stage that holds deals to move."""
    where = "pipeline_id = :id" + (" AND deleted_at IS NOT NULL" if trashed_only else "")
    ids = session.execute(f"SELECT DISTINCT stage_id FROM deal WHERE {where}", {"id": pipe.id})
    candidates = list_stages(session, heir.id)
    plan = []
    for (stage_id,) in ids:
        source = session.get(Stage, stage_id)
        stage = _matching_stage(candidates, source)
        if stage is None:
            count = _count(session, f"{where} AND stage_id = :stage", pipe.id, stage=stage_id)
            raise ValidationError(
                f"pipeline {heir.name!r} has no {source.kind} stage for the {_deals(count)} in {source.name!r}"
                f" (add one: crmtui stages add NAME --pipeline {heir.name!r} --kind {source.kind})", "move_deals_to")
        plan.append((source, stage))
    return plan


def _matching_stage(candidates: list[Stage], stage: Stage) -> Stage | None:
    """Where a deal of `stage` goes among `candidates`: the stage of the same name and kind, else
    the first of the same kind, else (lost and closed deals) the first of the other closed kind."""
    for s in candidates:
        if s.name.casefold() == stage.name.casefold() and s.kind == stage.kind and s.id != stage.id:
            return s
    kinds = {"lost": ("lost", "closed"), "closed": ("closed", "lost")}.get(stage.kind, (stage.kind,))
    for kind in kinds:
        for s in candidates:
            if s.kind == kind and s.id != stage.id:
                return s
    return None


# --- stages -------------------------------------------------------------------------------------


def add_stage(
    session: Session,
    name: str,
    *,
    pipeline: str | int | None = None,
    after: str | None = None,
    probability: str | int | None = None,
    expected_days: str | int | None = None,
    kind: str = "open",
    color: str | None = None,
) -> Stage:
    """A new stage of a pipeline (the default one when None), after the stage `after`; else an open
    stage goes after the last open stage and a won/lost/closed one at the end. Without a
    probability, an open stage takes that of the open stage before it, won 100%, lost/closed 0%."""
    pipe = find_pipeline(session, pipeline)
    name = _stage_name(session, pipe, name)
    kind = clean_kind(kind)
    days = clean_expected_days(expected_days)
    colour = clean_color(color)
    stages = list_stages(session, pipe.id)
    if after not in (None, ""):
        before = find_stage(session, pipe, after)
    else:
        before = next((s for s in reversed(stages) if s.kind == "open"), None) if kind == "open" else stages[-1]
    if probability not in (None, ""):
        chance = clean_probability(probability)
    elif kind == "open":
        earlier = stages[: stages.index(before) + 1] if before is not None else []
        chance = next((s.probability for s in reversed(earlier) if s.kind == "open"), 0)
    else:
        chance = 100 if kind == "won" else 0
    stage = Stage(pipeline_id=pipe.id, name=name, position=0, probability=chance, expected_days=days, kind=kind,
                  color=colour)
    ops = _place(session, pipe, stage, after=before, first=before is None)
    session.add(stage)
    undo.record(session, f"add stage {name}", ops + [{"op": "trash", "table": "stage", "id": stage.id}], scope=SCOPE)
    return stage


def update_stage(session: Session, stage: str, *, pipeline: str | int | None = None, **changes: Any) -> Stage:
    """Change a stage's probability, expected_days (None: no aging alert), kind and/or color
    (None: the colour of its kind), each as people type them. A pipeline keeps an open and a won
    stage; a stage that holds deals keeps them open or closed (move them first to change that)."""
    unknown = set(changes) - set(_CLEAN)
    if unknown:
        raise TypeError(f"update_stage: unknown change {', '.join(sorted(unknown))}")
    pipe = find_pipeline(session, pipeline)
    st = find_stage(session, pipe, stage)
    cleaned = {key: _CLEAN[key](value) for key, value in changes.items()}
    new_kind = cleaned.get("kind", st.kind)
    if new_kind != st.kind:
        rest = [s.kind for s in list_stages(session, pipe.id) if s.id != st.id] + [new_kind]
        _keep_open_and_won(pipe, st, rest)
        held = _count(session, "stage_id = :id", st.id)
        if held and (st.kind == "open") != (new_kind == "open"):
            trashed = _count(session, "stage_id = :id AND deleted_at IS NOT NULL", st.id)
            raise ValidationError(
                f"kind: stage {st.name!r} holds {_deals(held)}" + (f" ({trashed} in the trash)" if trashed else "")
                + f", which would {'close' if st.kind == 'open' else 'reopen'} without a move: move its deals"
                f" to another stage first (crmtui move), or add a {new_kind} stage instead", "kind")
    changed = [key for key, value in cleaned.items() if getattr(st, key) != value]
    if changed:
        op = undo.update_op(session, "stage", st.id, changed)
        for key in changed:
            setattr(st, key, cleaned[key])
        session.add(st)
        undo.record(session, f"edit stage {st.name}", [op], scope=SCOPE)
    return st


def _keep_open_and_won(pipe: Pipeline, stage: Stage, kinds_left: list[str]) -> None:
    for kind in ("open", "won"):
        if kind not in kinds_left:
            raise ValidationError(
                f"{stage.name!r} is the last {kind} stage of {pipe.name!r}: a pipeline must keep at least one open"
                " and one won stage", "kind")


def rename_stage(
    session: Session, stage: str, new_name: str, *, pipeline: str | int | None = None
) -> tuple[str, Stage]:
    """Give a stage another name (unique in its pipeline, any case). It stays the same stage, so
    its deals' history shows the new name. Returns the old name too."""
    pipe = find_pipeline(session, pipeline)
    st = find_stage(session, pipe, stage)
    old = st.name
    name = _stage_name(session, pipe, new_name, keep=st)
    if name != old:
        op = undo.update_op(session, "stage", st.id, ["name"])
        st.name = name
        session.add(st)
        undo.record(session, f"rename stage {old}", [op], scope=SCOPE)
    return old, st


def move_stage(
    session: Session,
    stage: str,
    *,
    pipeline: str | int | None = None,
    after: str | None = None,
    first: bool = False,
    last: bool = False,
) -> Stage:
    """Put a stage after another one, first, or last (exactly one of them)."""
    if sum([after not in (None, ""), first, last]) != 1:
        raise ValidationError("say where the stage goes: after a stage, first or last", "position")
    pipe = find_pipeline(session, pipeline)
    st = find_stage(session, pipe, stage)
    before = find_stage(session, pipe, after) if after else None
    if before is not None and before.id == st.id:
        raise ValidationError(f"after: {st.name!r} cannot go after itself", "after")
    ops = _place(session, pipe, st, after=before, first=first)
    if ops:
        undo.record(session, f"move stage {st.name}", ops, scope=SCOPE)
    return st


def _place(session: Session, pipe: Pipeline, stage: Stage, *, after: Stage | None, first: bool) -> list[dict[str, Any]]:
    """Put `stage` after `after` (and the deleted stages right behind it), first, or last when
    neither is given; number every stage of the pipeline again. Undo ops for the positions changed."""
    rows = [s for s in _every_stage(session, pipe.id) if stage.id is None or s.id != stage.id]
    if first:
        index = 0
    elif after is not None:
        index = [s.id for s in rows].index(after.id) + 1
        while index < len(rows) and rows[index].deleted_at is not None:
            index += 1
    else:
        index = len(rows)
    rows.insert(index, stage)
    ops = []
    for position, s in enumerate(rows):
        if s.position != position or s.id is None:
            if s.id is not None:
                ops.append(undo.update_op(session, "stage", s.id, ["position"]))
            s.position = position
            session.add(s)
    return ops


def _every_stage(session: Session, pipeline_id: int) -> list[Stage]:
    """Every stage of a pipeline, deleted ones too, in order."""
    return session.find(Stage, "pipeline_id = ?", [pipeline_id], order="position, id")


@dataclass
class StageDeleted:
    stage: Stage
    moved: int  # live deals moved to `target`
    target: Stage | None


def delete_stage(session: Session, stage: str, *, pipeline: str | int | None = None,
                 move_deals_to: str | None = None) -> StageDeleted:
    """Delete a stage (soft: the history keeps its name). A stage with live deals needs
    `move_deals_to`, another stage of the same pipeline, and its deals move there as moves do (a
    stage change each). Deals in the trash go along (without a target: to the first stage of the
    same kind), so a restore finds them a stage."""
    pipe = find_pipeline(session, pipeline)
    st = find_stage(session, pipe, stage)
    rest = [s for s in list_stages(session, pipe.id) if s.id != st.id]
    _keep_open_and_won(pipe, st, [s.kind for s in rest])
    live = _count(session, "stage_id = :id AND deleted_at IS NULL", st.id)
    target = _target_stage(session, pipe, st, move_deals_to) if move_deals_to not in (None, "") else None
    if target is None and live:
        raise ValidationError(
            f"stage {st.name!r} holds {_deals(live)}: give --move-deals-to STAGE to say where they go, or move"
            " them first (crmtui move)", "move_deals_to")
    trashed_only = target is None
    if trashed_only and _count(session, "stage_id = :id", st.id):
        target = _matching_stage(rest, st)
        if target is None:
            raise ValidationError(f"stage {st.name!r} holds deals in the trash: give --move-deals-to STAGE to say"
                                  " where they go", "move_deals_to")
    backups.backup_before(session, "before-stage-delete")
    st.deleted_at = clock.utcnow()
    session.add(st)
    ops: list[dict[str, Any]] = [{"op": "restore", "table": "stage", "id": st.id}]
    moved = 0
    if target is not None:
        moved, deal_ops = _move_deals(session, st, target, trashed_only=trashed_only)
        ops += deal_ops
    undo.record(session, f"delete stage {st.name}", ops, scope=SCOPE)
    return StageDeleted(st, moved, None if trashed_only else target)


def _target_stage(session: Session, pipe: Pipeline, stage: Stage, name: str) -> Stage:
    """The stage of `pipe` a deleted stage's deals go to; naming another pipeline's stage is refused."""
    try:
        target = find_stage(session, pipe, name)
    except ValidationError:
        for other in list_pipelines(session):
            if other.id != pipe.id and any(s.name.casefold() == name.strip().casefold()
                                           for s in list_stages(session, other.id)):
                raise ValidationError(
                    f"move deals to: {name!r} is a stage of pipeline {other.name!r}; deals of {pipe.name!r} can"
                    f" only move to a stage of {pipe.name!r}", "move_deals_to") from None
        raise
    if target.id == stage.id:
        raise ValidationError(f"move deals to: {stage.name!r} is the stage being deleted", "move_deals_to")
    return target


# --- moving deals in bulk ------------------------------------------------------------------------

_MOVED_COLUMNS = ["pipeline_id", "stage_id", "stage_entered_at", "closed_on", "lost_reason", "updated_at"]


def _move_deals(
    session: Session, source: Stage, target: Stage, *, trashed_only: bool
) -> tuple[int, list[dict[str, Any]]]:
    """Move the deals of `source` (all, or those in the trash) to `target` as a move does: a stage
    change each, entered now; the close date set when they close, cleared (with the lost reason)
    when they reopen, kept when a closed deal stays closed. Returns the live deals moved and the
    undo ops (the deals' old values, the stage changes to remove)."""
    where = "stage_id = :source" + (" AND deleted_at IS NOT NULL" if trashed_only else "")
    params = {"source": source.id}
    rows = session.execute(f"SELECT id, deleted_at, {', '.join(_MOVED_COLUMNS)} FROM deal WHERE {where}",
                        params).fetchall()
    if not rows:
        return 0, []
    ops = [{"op": "update", "table": "deal", "id": r["id"], "values": {c: r[c] for c in _MOVED_COLUMNS}} for r in rows]
    first_change = session.execute("SELECT coalesce(max(id), 0) + 1 FROM stage_change").scalar()
    now = clock.to_db(clock.utcnow())
    session.execute("INSERT INTO stage_change (deal_id, from_stage_id, to_stage_id, changed_at)"
                      f" SELECT id, stage_id, :target, :now FROM deal WHERE {where} ORDER BY id",
                 {**params, "target": target.id, "now": now})
    session.execute("UPDATE deal SET pipeline_id = :pipeline, stage_id = :target, stage_entered_at = :now, updated_at = :now,"
        " closed_on = CASE WHEN :to_kind = 'open' THEN NULL WHEN :from_kind = 'open' THEN :today ELSE closed_on END,"
        " lost_reason = CASE WHEN :to_kind = 'lost' THEN lost_reason END"
        f" WHERE {where}",
        {**params, "pipeline": target.pipeline_id, "target": target.id, "now": now, "to_kind": target.kind,
         "from_kind": source.kind, "today": clock.today().isoformat()})
    changes = session.execute("SELECT id FROM stage_change WHERE id >= :first ORDER BY id", {"first": first_change})
    ops += [{"op": "delete_row", "table": "stage_change", "id": change_id} for (change_id,) in changes]
    return sum(1 for r in rows if r["deleted_at"] is None), ops


def _count(session: Session, where: str, row_id: int, **params: Any) -> int:
    return session.execute(f"SELECT count(*) FROM deal WHERE {where}", {"id": row_id, **params}).scalar()


def _deals(n: int) -> str:
    return f"{n} deal" if n == 1 else f"{n} deals"
