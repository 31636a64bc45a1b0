"""Pipelines and their stages."""

from __future__ import annotations

from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.models import Pipeline, Stage
from crmtui.store.sql import Session


def list_pipelines(session: Session) -> list[Pipeline]:
    """Pipelines in display order, the trash left out."""
    return session.find(Pipeline, "deleted_at IS NULL", order="position, id")


def default_pipeline(session: Session) -> Pipeline:
    """The pipeline new deals go to when none is named."""
    pipelines = list_pipelines(session)
    if not pipelines:
        raise NotFound("the database has no pipeline")
    return next((p for p in pipelines if p.is_default), pipelines[0])


def find_pipeline(session: Session, name_or_id: str | int | None) -> Pipeline:
    """A pipeline by id or case-insensitive name; the default one for None."""
    if name_or_id is None or name_or_id == "":
        return default_pipeline(session)
    pipelines = list_pipelines(session)
    text = str(name_or_id).strip()
    for p in pipelines:
        if p.name.casefold() == text.casefold() or (text.isdigit() and p.id == int(text)):
            return p
    names = ", ".join(p.name for p in pipelines)
    raise ValidationError(f"unknown pipeline {text!r} (pipelines: {names})", "pipeline")


def list_stages(session: Session, pipeline_id: int) -> list[Stage]:
    """The stages of a pipeline in order."""
    return session.find(Stage, "pipeline_id = ? AND deleted_at IS NULL", [pipeline_id], order="position, id")


def find_stage(session: Session, pipeline: Pipeline, name: str) -> Stage:
    """A stage of `pipeline` by case-insensitive name (or position number 1..n)."""
    stages = list_stages(session, pipeline.id)
    text = " ".join(str(name).split())
    for stage in stages:
        if stage.name.casefold() == text.casefold():
            return stage
    if text.isdigit() and 1 <= int(text) <= len(stages):
        return stages[int(text) - 1]
    names = ", ".join(s.name for s in stages)
    raise ValidationError(f"unknown stage {text!r} in pipeline {pipeline.name!r} (stages: {names})", "stage")


def first_open_stage(session: Session, pipeline: Pipeline) -> Stage:
    for stage in list_stages(session, pipeline.id):
        if stage.kind == "open":
            return stage
    raise ValidationError(f"pipeline {pipeline.name!r} has no open stage", "stage")


def stage_of_kind(session: Session, pipeline: Pipeline, kind: str) -> Stage:
    """The first stage of a kind (won / lost / closed) in the pipeline."""
    for stage in list_stages(session, pipeline.id):
        if stage.kind == kind:
            return stage
    raise ValidationError(f"pipeline {pipeline.name!r} has no {kind} stage", "stage")
