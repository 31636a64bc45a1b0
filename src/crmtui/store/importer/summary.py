"""What an import did, as `crmtui import --json` prints it and the import-finished hook gets it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any


def import_summary(result: Any, *, dry_run: bool, rejects_path: Path | None) -> dict[str, Any]:  # noqa: ANN401
    """The summary of a finished import (`apply.run_import`'s result)."""
    plan = result.plan
    mapping, csv_text = plan.mapping, plan.csv
    return {
        "import_id": result.import_id, "dry_run": dry_run, "type": mapping.record_type,
        "encoding": csv_text.encoding, "delimiter": csv_text.delimiter_name, "rows": plan.rows_read,
        "merged_rows": plan.merged_rows, "counts": plan.counts(), "new_stages": [s[2] for s in plan.new_stages],
        "new_pipeline": new_pipeline_summary(plan), "warnings": plan.warnings,
        "mapping": dict(mapping.pairs()), "ignored": [h for h, _why in mapping.ignored],
        "unmatched": unmatched_columns(mapping), "titles_made_from": mapping.titles_made_from(),
        "new_fields": [f.summary() for f in plan.new_fields],
        "rejects_file": str(rejects_path) if plan.rejects and rejects_path is not None else None,
        "errors": plan.error_lines(),
    }


def new_pipeline_summary(plan: Any) -> dict[str, Any] | None:  # noqa: ANN401
    """The pipeline the import makes (--new-pipeline), with its stages in order; None: none."""
    if plan.new_pipeline is None:
        return None
    pid, name, _position = plan.new_pipeline
    stages = sorted((s for s in plan.new_stages if s[1] == pid), key=lambda s: s[3])
    return {"name": name, "default": plan.default_from is not None,
            "stages": [{"name": s[2], "kind": s[5], "probability": s[4]} for s in stages]}


def unmatched_columns(mapping: Any) -> list[dict[str, str]]:  # noqa: ANN401
    """The columns that match no field, each with how to keep it."""
    out = []
    for i in mapping.unknown:
        column = mapping.header[i]
        if not column:
            continue
        keep = ("it has no values: nothing to keep" if mapping.new_fields is not None else
                f"--create-fields makes it a custom field, or --map {shlex.quote(column + '=FIELD')} maps it to one")
        out.append({"column": column, "to_keep": keep})
    return out
