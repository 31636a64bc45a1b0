"""The pipelines and stages a deals file names.

A row's stage cell matches a stage of its pipeline by name, any case and spacing; "Closed Won"
and "Closed Lost" (HubSpot, Salesforce) mean the pipeline's won and lost stage. A status cell
(open / won / lost) says where the deal ended: a won row whose stage cell names an open stage
went through that stage first. A stage the pipeline lacks is listed in the plan, and with
--create-stages planned as a new open stage after the pipeline's last open one.
"""

from __future__ import annotations

import re
import sqlite3

from crmtui.store.errors import ValidationError
from crmtui.store.importer.cells import RowError
from crmtui.store.importer.plan import ImportOptions, Plan

_CLOSED_WORDS = {"closedwon": "won", "won": "won", "closedlost": "lost", "lost": "lost"}


def stage_key(name: str) -> str:
    return " ".join(name.casefold().split())


def parse_stage_map(options: list[str] | None) -> list[tuple[str, str]]:
    """`--map-stage 'Their stage=Our stage'` options as (theirs, ours) pairs."""
    pairs = []
    for option in options or []:
        theirs, eq, ours = option.rpartition("=")
        if not eq or not theirs.strip() or not ours.strip():
            raise ValidationError(f"--map-stage {option!r}: write it as 'Their stage=Our stage'", "map_stage")
        pairs.append((" ".join(theirs.split()), " ".join(ours.split())))
    return pairs


def parse_stage_order(option: str | None) -> list[str] | None:
    """`--stage-order 'A,B,C'` as the stage names, in order."""
    if option is None:
        return None
    names = [" ".join(n.split()) for n in option.split(",")]
    if not all(names):
        raise ValidationError(f"--stage-order {option!r}: write the stages as 'A,B,C'", "stage_order")
    return names


class Stages:
    """The database's pipelines and stages (read once), and those the plan adds."""

    def __init__(self, conn: sqlite3.Connection, options: ImportOptions, plan: Plan) -> None:
        self.plan = plan
        self.create = options.create_stages
        self.pipelines: dict[str, int] = {}  # casefold name -> id
        default = None
        for pid, name, is_default in conn.execute(
                "SELECT id, name, is_default FROM pipeline WHERE deleted_at IS NULL ORDER BY position, id"):
            self.pipelines[name.casefold()] = pid
            if default is None or is_default:
                default = pid if (default is None or is_default) else default
        self.pipeline_names = {pid: name for pid, name in conn.execute("SELECT id, name FROM pipeline")}
        if options.pipeline:
            key = options.pipeline.strip().casefold()
            if key not in self.pipelines:
                raise ValidationError(f"--pipeline: unknown pipeline {options.pipeline!r} ({self._listed()})",
                                      "pipeline")
            default = self.pipelines[key]
        if default is None:
            raise ValidationError("the database has no pipeline", "pipeline")
        self.default_pipeline = default
        self._load_stages(conn)

    def _load_stages(self, conn: sqlite3.Connection) -> None:
        self.stages: dict[int, dict[str, tuple[int, str]]] = {}  # pipeline -> stage_key -> (id, kind)
        self.kind_stage: dict[int, dict[str, int]] = {}  # pipeline -> kind -> its first stage of that kind
        self.first_open: dict[int, int] = {}
        self.last_open: dict[int, tuple[int, int]] = {}  # pipeline -> (position, probability)
        self.stage_kind: dict[int, str] = {}
        for sid, pid, name, kind, position, prob in conn.execute(
                "SELECT id, pipeline_id, name, kind, position, probability FROM stage WHERE deleted_at IS NULL"
                " ORDER BY pipeline_id, position, id"):
            self.stages.setdefault(pid, {})[stage_key(name)] = (sid, kind)
            self.kind_stage.setdefault(pid, {}).setdefault(kind, sid)
            self.stage_kind[sid] = kind
            if kind == "open":
                self.first_open.setdefault(pid, sid)
                self.last_open[pid] = (position, prob)
        self.next_stage_id = (conn.execute("SELECT coalesce(max(id), 0) FROM stage").fetchone()[0]) + 1

    def _listed(self) -> str:
        return f"pipelines: {', '.join(self.pipeline_names[p] for p in self.pipelines.values())}"

    def pipeline_named(self, name: str) -> int:
        """The id of the pipeline a row's pipeline cell (stripped, not empty) names."""
        pipeline_id = self.pipelines.get(name.casefold())
        if pipeline_id is None:
            raise RowError("pipeline", name, f"unknown pipeline {name!r} ({self._listed()})")
        return pipeline_id

    def stage_for(self, pipeline_id: int, raw_stage: str, status: str | None, raw_status: str,
                  line: int) -> tuple[int, int | None]:
        """(stage id, the open stage it went through first or None) from a row's stage cell
        (stripped) and its status (parsed; `raw_status` as written)."""
        kinds = self.kind_stage.get(pipeline_id, {})
        stage = None
        if raw_stage:
            key = stage_key(raw_stage)
            found = self.stages.get(pipeline_id, {}).get(key)
            if found is None:
                kind = _CLOSED_WORDS.get(re.sub(r"[\W_]+", "", key))
                if kind and kind in kinds:
                    found = (kinds[kind], kind)
            if found is None:
                found = self._unknown_stage(pipeline_id, raw_stage, line)
            stage = found
        if status and status != "open":
            if stage is not None and stage[1] == status:
                return stage[0], None
            if status not in kinds:
                raise RowError("status", raw_status,
                               f"pipeline {self.pipeline_names[pipeline_id]!r} has no {status} stage")
            through = stage[0] if stage is not None and stage[1] == "open" else None
            return kinds[status], through
        if stage is not None:
            return stage[0], None
        if pipeline_id not in self.first_open:
            raise RowError(None, None, f"pipeline {self.pipeline_names[pipeline_id]!r} has no open stage")
        return self.first_open[pipeline_id], None

    def _unknown_stage(self, pipeline_id: int, name: str, line: int) -> tuple[int, str]:
        """Listed in the plan; with --create-stages also planned as an open stage."""
        key = (pipeline_id, stage_key(name))
        clean = " ".join(name.split())
        self.plan.unknown_stages.setdefault(key, (line, clean))
        if not self.create:
            return (0, "open")  # the import stops before writing (unknown stages are listed)
        sid = self.next_stage_id
        self.next_stage_id += 1
        after, prob = self.last_open.get(pipeline_id, (-1, 0))
        shift_after, count = self.plan.stage_shifts.get(pipeline_id, (after, 0))
        position = shift_after + count + 1
        self.plan.stage_shifts[pipeline_id] = (shift_after, count + 1)
        self.plan.new_stages.append((sid, pipeline_id, clean, position, prob))
        self.stages.setdefault(pipeline_id, {})[key[1]] = (sid, "open")
        self.stage_kind[sid] = "open"
        return (sid, "open")
