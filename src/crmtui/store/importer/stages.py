"""The pipelines and stages a deals file names.

A row's stage cell matches a stage of its pipeline by name, any case and spacing; a name that
says won, lost or closed in the usual words ("Closed Won", "Dead", "N/A", see `stage_kind_of`)
means the pipeline's stage of that kind. A status cell (open / won / lost) says where the deal
ended: a won row whose stage cell names an open stage went through that stage first.

A file with stages of its own: `--map-stage 'Theirs=Ours'` reads one of them as a stage of the
pipeline; `--new-pipeline NAME` makes a pipeline of them (`file_stages` lists them before any row
is planned); `--create-stages` adds those the pipeline lacks, open ones right before its won, lost
and closed stages. Without any of these, a stage the pipeline lacks is listed in the plan and
the import stops.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from crmtui.store.errors import ValidationError
from crmtui.store.importer.cells import RowError, unguard
from crmtui.store.importer.mapping import Mapping
from crmtui.store.importer.plan import ImportOptions, Plan
from crmtui.store.importer.reading import CsvText, UnclosedQuote, data_rows

NAME_MAX = 60  # a pipeline's or stage's name, as setup_pipelines.NAME_MAX

# Stage names that say how a deal ended (squashed: "Closed - Won" is "closedwon"), as the status
# column reads them (values.STATUS_WORDS), with a few more that exports use.
_KIND_WORDS = {
    "won": "won", "win": "won", "closedwon": "won", "success": "won",
    "lost": "lost", "loss": "lost", "closedlost": "lost", "dead": "lost",
    "closed": "closed", "na": "closed", "cancelled": "closed", "canceled": "closed", "declined": "closed",
    "expired": "closed", "ghosted": "closed", "nodecision": "closed",
}
_ENDS = ("won", "lost", "closed")  # a new pipeline's stages after its open ones, in this order
_MADE_UP = {"won": "Won", "lost": "Lost"}  # the stages every new pipeline gets, named so when the file has none


def stage_key(name: str) -> str:
    return " ".join(name.casefold().split())


def stage_kind_of(name: str) -> str:
    """won, lost or closed when a stage name says so in the usual words ("Closed Won", "Dead",
    "Cancelled", "N/A"), else open."""
    return _KIND_WORDS.get(re.sub(r"[\W_]+", "", stage_key(name)), "open")


@dataclass(frozen=True)
class FileStage:
    """A value of a deals file's stage column: as first written, how many rows have it, its kind
    by its words (`stage_kind_of`), and the line it first appears on."""

    name: str
    rows: int
    kind: str
    line: int


def file_stages(csv_text: CsvText, mapping: Mapping) -> list[FileStage]:
    """The values of the file's stage column in order of first appearance, one per name in any
    case and spacing, with their counts; [] when no column is the stage."""
    column = mapping.index("stage")
    if column is None:
        return []
    found: dict[str, list] = {}  # stage_key -> [name, rows, line]
    rows = data_rows(csv_text)
    try:
        for line, fields in rows:
            name = " ".join(unguard(fields[column].strip()).split()) if column < len(fields) else ""
            if name:
                seen = found.setdefault(stage_key(name), [name, 0, line])
                seen[1] += 1
    except UnclosedQuote:
        pass  # (the file's last record, which planning rejects)
    return [FileStage(name, n, stage_kind_of(name), line) for name, n, line in found.values()]


def new_pipeline_open_stages(csv_text: CsvText, mapping: Mapping,
                             stage_map: list[tuple[str, str]]) -> list[FileStage]:
    """The file's open stages a new pipeline is made of, as they first appear (those
    `--map-stage` reads as another stage left out)."""
    mapped = {stage_key(theirs) for theirs, _ours in stage_map}
    return [s for s in file_stages(csv_text, mapping) if s.kind == "open" and stage_key(s.name) not in mapped]


def parse_stage_map(options: list[str] | None) -> list[tuple[str, str]]:
    """`--map-stage 'Their stage=Our stage'` options as (theirs, ours) pairs."""
    pairs: dict[str, tuple[str, str]] = {}
    for option in options or []:
        theirs, eq, ours = option.rpartition("=")
        if not eq or not theirs.strip() or not ours.strip():
            raise ValidationError(f"--map-stage {option!r}: write it as 'Their stage=Our stage'", "map_stage")
        pair = (" ".join(theirs.split()), " ".join(ours.split()))
        earlier = pairs.setdefault(stage_key(pair[0]), pair)
        if stage_key(earlier[1]) != stage_key(pair[1]):
            raise ValidationError(f"--map-stage: {pair[0]!r} is mapped twice, to {earlier[1]!r} and to {pair[1]!r}",
                                  "map_stage")
    return list(pairs.values())


def parse_stage_order(option: str | None) -> list[str] | None:
    """`--stage-order 'A,B,C'` as the stage names, in order."""
    if option is None:
        return None
    names = [" ".join(n.split()) for n in option.split(",")]
    if not all(names):
        raise ValidationError(f"--stage-order {option!r}: write the stages as 'A,B,C'", "stage_order")
    seen: set[str] = set()
    for name in names:
        if stage_key(name) in seen:
            raise ValidationError(f"--stage-order: {name!r} is named twice", "stage_order")
        seen.add(stage_key(name))
    return names


def parse_order_answer(answer: str, names: list[str]) -> list[str]:
    """`names` in the order a person typed their numbers ("2 1 3", "2,1,3"); an empty answer
    keeps them as they are."""
    words = answer.replace(",", " ").split()
    if not words:
        return list(names)
    numbers = []
    for word in words:
        if not word.isdigit() or not 1 <= int(word) <= len(names):
            raise ValidationError(f"{word!r} is not a number from 1 to {len(names)}", "stage_order")
        numbers.append(int(word))
    missing = [str(n) for n in range(1, len(names) + 1) if n not in numbers]
    if len(set(numbers)) != len(numbers) or missing:
        raise ValidationError(f"give each number from 1 to {len(names)} once"
                              + (f" ({', '.join(missing)} missing)" if missing else ""), "stage_order")
    return [names[n - 1] for n in numbers]


def check_stage_options(options: ImportOptions, mapping: Mapping) -> None:
    """The stage options go together (ValidationError when they do not); needs no database."""
    given = [name for name, on in (("--map-stage", options.stage_map), ("--new-pipeline", options.new_pipeline),
                                   ("--stage-order", options.stage_order is not None)) if on]
    if given and options.record_type != "deals":
        raise ValidationError(f"{' and '.join(given)}: only for a file of deals, and this one holds "
                              f"{options.record_type}", given[0].lstrip("-").replace("-", "_"))
    if options.new_pipeline is not None:
        if options.pipeline:
            raise ValidationError("--new-pipeline and --pipeline: give one of them (the deals go to the new "
                                  "pipeline)", "new_pipeline")
        if options.create_stages:
            raise ValidationError("--new-pipeline makes a stage of each of the file's stages; --create-stages adds "
                                  "stages to a pipeline that exists: give one of them", "new_pipeline")
        if mapping.has("pipeline"):
            column = mapping.header_of("pipeline")
            raise ValidationError(f"--new-pipeline puts every deal in the new pipeline, but column {column!r} names "
                                  f"a pipeline on each row: leave that column out with --map '{column}='",
                                  "new_pipeline")
    elif options.stage_order is not None and not options.create_stages:
        raise ValidationError("--stage-order orders the stages --new-pipeline or --create-stages makes: give one "
                              "of them too", "stage_order")


def open_probability(index: int, count: int) -> int:
    """The win probability of a new pipeline's open stage `index` (from 0) of `count`: spread
    evenly between 0 and 100 %, in steps of 5 (2 stages: 35, 65; 4: 20, 40, 60, 80)."""
    return min(95, max(5, round(100 * (index + 1) / (count + 1) / 5) * 5))


def _listed(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


class Stages:
    """The database's pipelines and stages (read once), and those the plan adds."""

    def __init__(self, conn: sqlite3.Connection, options: ImportOptions, plan: Plan) -> None:
        check_stage_options(options, plan.mapping)
        self.plan = plan
        self.create = options.create_stages
        self.order = options.stage_order
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
        self.created: dict[int, list[tuple[int, str, str]]] = {}  # pipeline -> (id, name, kind) --create-stages adds
        found = file_stages(plan.csv, plan.mapping) if options.new_pipeline is not None or options.stage_map else []
        if options.new_pipeline is not None:
            self._plan_pipeline(conn, options.new_pipeline, found, options.stage_map)
        self.renamed = self._stage_map(options.stage_map, found)  # their stage's key -> our stage's

    def _load_stages(self, conn: sqlite3.Connection) -> None:
        self.stages: dict[int, dict[str, tuple[int, str]]] = {}  # pipeline -> stage_key -> (id, kind)
        self.kind_stage: dict[int, dict[str, int]] = {}  # pipeline -> kind -> its first stage of that kind
        self.first_open: dict[int, int] = {}
        self.stage_kind: dict[int, str] = {}
        self.stage_names: dict[int, list[str]] = {}  # pipeline -> its stages' names, in order
        # pipeline -> (position, kind, probability) of its live stages, in order; its last position (of all)
        self.layout: dict[int, list[tuple[int, str, int]]] = {}
        self.last_position = dict(conn.execute("SELECT pipeline_id, max(position) FROM stage GROUP BY pipeline_id"))
        for sid, pid, name, kind, position, prob in conn.execute(
                "SELECT id, pipeline_id, name, kind, position, probability FROM stage WHERE deleted_at IS NULL"
                " ORDER BY pipeline_id, position, id"):
            self._add_stage(pid, sid, name, kind)
            self.layout.setdefault(pid, []).append((position, kind, prob))
        self.next_stage_id = (conn.execute("SELECT coalesce(max(id), 0) FROM stage").fetchone()[0]) + 1

    def _add_stage(self, pipeline_id: int, stage_id: int, name: str, kind: str) -> None:
        self.stages.setdefault(pipeline_id, {})[stage_key(name)] = (stage_id, kind)
        self.kind_stage.setdefault(pipeline_id, {}).setdefault(kind, stage_id)
        self.stage_kind[stage_id] = kind
        self.stage_names.setdefault(pipeline_id, []).append(name)
        if kind == "open":
            self.first_open.setdefault(pipeline_id, stage_id)

    def _listed(self) -> str:
        return f"pipelines: {', '.join(self.pipeline_names[p] for p in self.pipelines.values())}"

    # --- a file's own stages ------------------------------------------------------------------

    def _plan_pipeline(self, conn: sqlite3.Connection, name: str, found: list[FileStage],
                       stage_map: list[tuple[str, str]]) -> None:
        """--new-pipeline: a pipeline of the file's stages, planned before any row (the deals go there)."""
        name = " ".join(name.split())
        if not name or len(name) > NAME_MAX:
            raise ValidationError(f"--new-pipeline {name!r}: give a name of 1 to {NAME_MAX} characters", "new_pipeline")
        if name.casefold() in self.pipelines:
            taken = self.pipeline_names[self.pipelines[name.casefold()]]
            raise ValidationError(f"--new-pipeline: there is already a pipeline called {taken!r}; choose another "
                                  f"name, or import into it with --pipeline {taken!r}", "new_pipeline")
        mapped = {stage_key(theirs) for theirs, _ours in stage_map}
        stages = self._new_pipeline_stages(name, [s for s in found if stage_key(s.name) not in mapped])
        pid = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM pipeline").fetchone()[0]
        position = conn.execute("SELECT coalesce(max(position), -1) + 1 FROM pipeline").fetchone()[0]
        self.plan.new_pipeline = (pid, name, position)
        if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM deal)").fetchone()[0]:
            self.plan.default_from = self.default_pipeline
        for position, (stage_name, kind, probability) in enumerate(stages):
            sid = self.next_stage_id
            self.next_stage_id += 1
            self.plan.new_stages.append((sid, pid, stage_name, position, probability, kind))
            self._add_stage(pid, sid, stage_name, kind)
        self.pipelines[name.casefold()] = pid
        self.pipeline_names[pid] = name
        self.default_pipeline = pid

    def _new_pipeline_stages(self, name: str, found: list[FileStage]) -> list[tuple[str, str, int]]:
        """(name, kind, probability) of each stage of the new pipeline `name`, in order: the file's
        open stages (in --stage-order's order, else as they first appear, with a warning), then a
        won, a lost and (when the file has one) a closed stage, each named as the file first names
        one of that kind ("Lost" and "Dead": one lost stage)."""
        file = self.plan.csv.name
        if not found:
            raise ValidationError(f"--new-pipeline: {file} has no stage column to make the pipeline's stages of"
                                  if not self.plan.mapping.has("stage") else
                                  f"--new-pipeline: the stage column of {file} is empty", "new_pipeline")
        for s in found:
            if len(s.name) > NAME_MAX:
                raise ValidationError(f"{file}: line {s.line}: stage {s.name[:20] + '…'!r} is longer than {NAME_MAX}"
                                      " characters, too long for a stage name", "stage")
        opens = [s.name for s in found if s.kind == "open"]
        if not opens:
            raise ValidationError(f"--new-pipeline: the stages of {file} ({_listed([s.name for s in found])}) all say "
                                  "won, lost or closed, and a pipeline needs an open stage: import into a pipeline "
                                  "that exists (--pipeline)", "new_pipeline")
        if self.order is not None:
            opens = [opens[i] for i in self._order_of(opens, f"the open stages of {file}")]
        elif len(opens) > 1:
            self.plan.warnings.append(
                f"the open stages of the new pipeline {name!r} are in the order they first appear in {file}: "
                f"{', '.join(opens)}; give another with --stage-order '{','.join(opens)}'")
        ends = dict(_MADE_UP)
        for s in reversed(found):
            if s.kind != "open":
                ends[s.kind] = s.name
        return ([(n, "open", open_probability(i, len(opens))) for i, n in enumerate(opens)]
                + [(ends[kind], kind, 100 if kind == "won" else 0) for kind in _ENDS if kind in ends])

    def _stage_map(self, stage_map: list[tuple[str, str]], found: list[FileStage]) -> dict[str, str]:
        """--map-stage: each of their stages as one of the pipeline's (an unknown one is an error)."""
        pid = self.default_pipeline
        renamed = {}
        for theirs, ours in stage_map:
            if self._named(pid, ours) is None:
                raise ValidationError(
                    f"--map-stage '{theirs}={ours}': pipeline {self.pipeline_names[pid]!r} has no stage {ours!r} "
                    f"(its stages: {', '.join(self.stage_names.get(pid, []))})", "map_stage")
            renamed[stage_key(theirs)] = stage_key(ours)
        in_file = {stage_key(s.name) for s in found}
        unused = [theirs for theirs, _ours in stage_map if stage_key(theirs) not in in_file]
        if unused:
            self.plan.warnings.append(
                f"--map-stage: {self.plan.csv.name} has no stage {' or '.join(repr(t) for t in unused)}; "
                f"its stages: {_listed([s.name for s in found])}")
        return renamed

    def _named(self, pipeline_id: int, name: str) -> tuple[int, str] | None:
        """The stage of a pipeline `name` names, or whose kind it says ("Closed Won"); None: none."""
        key = stage_key(name)
        found = self.stages.get(pipeline_id, {}).get(key)
        if found is None:
            kind = stage_kind_of(key)
            kinds = self.kind_stage.get(pipeline_id, {})
            if kind != "open" and kind in kinds:
                found = (kinds[kind], kind)
        return found

    def _order_of(self, names: list[str], what: str, allowed: set[str] | None = None) -> list[int]:
        """The indexes of `names` in --stage-order's order. It must name each of them once, and
        nothing else but the stages whose keys are `allowed` (left out)."""
        index = {stage_key(n): i for i, n in enumerate(names)}
        order = self.order or []
        unknown = [n for n in order if stage_key(n) not in index and stage_key(n) not in (allowed or set())]
        if unknown:
            raise ValidationError(f"--stage-order: {unknown[0]!r} is not one of {what} ({_listed(names)})",
                                  "stage_order")
        given = {stage_key(n) for n in order}
        missing = [n for n in names if stage_key(n) not in given]
        if missing:
            raise ValidationError(f"--stage-order misses {', '.join(repr(n) for n in missing)}: name each of {what}"
                                  f" once ({_listed(names)})", "stage_order")
        return [index[stage_key(n)] for n in order if stage_key(n) in index]

    # --- the rows ---------------------------------------------------------------------------------

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
        stage = None
        if raw_stage:
            key = stage_key(raw_stage)
            stage = self._named(pipeline_id, self.renamed.get(key, key))
            if stage is None:
                stage = self._unknown_stage(pipeline_id, raw_stage, line)
        kinds = self.kind_stage.get(pipeline_id, {})
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
        """Listed in the plan; with --create-stages also planned as a new stage (`finish` places it)."""
        clean = " ".join(name.split())
        if self.create and len(clean) > NAME_MAX:
            raise RowError("stage", clean[:20] + "…", f"longer than {NAME_MAX} characters, too long for a stage name")
        self.plan.unknown_stages.setdefault((pipeline_id, stage_key(name)), (line, clean))
        if not self.create:
            return (0, "open")  # the import stops before writing (unknown stages are listed)
        # (a pipeline without a lost stage gets "Dead" as its lost stage, not as an open one)
        kind = stage_kind_of(clean)
        sid = self.next_stage_id
        self.next_stage_id += 1
        self.created.setdefault(pipeline_id, []).append((sid, clean, kind))
        self._add_stage(pipeline_id, sid, clean, kind)
        return (sid, kind)

    def finish(self) -> None:
        """Place the stages --create-stages adds: the open ones right before the pipeline's first
        won, lost or closed stage, in --stage-order's order (else as the file first names them),
        with the probability of the open stage before them; the others after its last stage."""
        opens = [name for created in self.created.values() for _sid, name, kind in created if kind == "open"]
        rank = {}
        if self.order is not None:
            # (stages the pipeline has may be named too: the same command run again adds none)
            there = set(self.stages.get(self.default_pipeline, {})) - {stage_key(n) for n in opens}
            ordered = self._order_of(opens, "the stages --create-stages adds", there)
            rank = {stage_key(opens[i]): r for r, i in enumerate(ordered)}
        for pid, created in self.created.items():
            layout = self.layout.get(pid, [])
            end = self.last_position.get(pid, -1)
            at = next((position for position, kind, _p in layout if kind != "open"), end + 1)
            probability = next((p for position, kind, p in reversed(layout) if kind == "open" and position < at), 0)
            new_open = [c for c in created if c[2] == "open"]
            new_open.sort(key=lambda c: rank.get(stage_key(c[1]), 0))
            for i, (sid, name, kind) in enumerate(new_open):
                self.plan.new_stages.append((sid, pid, name, at + i, probability, kind))
            if new_open:
                self.plan.stage_shifts[pid] = (at - 1, len(new_open))
            others = [c for c in created if c[2] != "open"]
            for i, (sid, name, kind) in enumerate(others):
                self.plan.new_stages.append((sid, pid, name, end + len(new_open) + 1 + i, 100 if kind == "won" else 0,
                                             kind))
