"""How the deal, company and contact pages look: fixed clock, small seeded db, 120x40."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmtui.app import make_app
from crmtui.store.db import open_database
from tests.test_detail import seed


@pytest.fixture
def seeded(db_path: Path, fixed_clock: dt.datetime) -> Path:
    seed(db_path)
    return db_path


def _app(db_path: Path):  # noqa: ANN202
    app = make_app(open_database(db_path))
    app.sub_title = "crm.db"  # the real path differs from run to run
    return app


@pytest.mark.parametrize(("kind", "record_id"), [("deal", 1), ("company", 1), ("contact", 1)])
def test_detail_snapshot(seeded: Path, snap_compare, kind: str, record_id: int) -> None:  # noqa: ANN001
    app = _app(seeded)

    async def open_it(pilot) -> None:  # noqa: ANN001
        app.open_record(kind, record_id)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_it)


def test_deal_edit_form_snapshot(seeded: Path, snap_compare) -> None:  # noqa: ANN001
    app = _app(seeded)

    async def edit_with_an_error(pilot) -> None:  # noqa: ANN001
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#field-amount").value = "12,5x"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=edit_with_an_error)
