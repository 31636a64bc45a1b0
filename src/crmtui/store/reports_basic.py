"""Small aggregate queries shared by screens (full reports live in reports.py)."""

from __future__ import annotations

from typing import Any

from crmtui.store.models import Pipeline
from crmtui.store.pipelines import find_pipeline
from crmtui.store.sql import Session


def stage_totals(session: Session, pipeline: str | int | None = None) -> tuple[Pipeline, list[dict[str, Any]]]:
    """Per stage of a pipeline: deal count, amount and weighted amount (amount x probability).

    Counts and sums seek each stage's deals by an index that leads with the stage, not a scan of the
    deal table.
    """
    pipe = find_pipeline(session, pipeline)
    rows = session.execute(
        """
            SELECT s.id AS stage_id, s.name AS stage, s.kind, s.probability,
                   (SELECT count(*) FROM deal d WHERE d.stage_id = s.id AND d.deleted_at IS NULL) AS deals,
                   (SELECT coalesce(sum(d.amount_cents), 0) FROM deal d
                     WHERE d.stage_id = s.id AND d.deleted_at IS NULL) AS amount_cents
            FROM stage s WHERE s.pipeline_id = :p AND s.deleted_at IS NULL ORDER BY s.position, s.id
            """,
        {"p": pipe.id},
    )
    out = []
    for r in rows:
        d = dict(r)
        d["weighted_cents"] = d["amount_cents"] * d["probability"] // 100
        out.append(d)
    return pipe, out
