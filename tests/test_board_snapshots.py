"""How the board looks: a small seeded database, a fixed clock, fixed terminal sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.app import make_app
from crmtui.store.db import open_database
from tests.board_seed import seed_board


@pytest.fixture
def seeded_app(db_path: Path, fixed_clock):  # noqa: ANN001, ANN201
    db = open_database(db_path)
    seed_board(db)
    app = make_app(db)
    app.sub_title = "crm.db"  # the real path differs from run to run
    return app


def test_board_120x40(seeded_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(seeded_app, terminal_size=(120, 40), press=["j"])


def test_board_80x24_scrolled_to_the_focused_card(seeded_app, snap_compare) -> None:  # noqa: ANN001
    # Four columns to the right: Negotiation, scrolled into view, second card focused.
    assert snap_compare(seeded_app, terminal_size=(80, 24), press=["l", "l", "l", "l", "j"])


def test_board_privacy_80x24(seeded_app, snap_compare) -> None:  # noqa: ANN001
    async def mask(pilot) -> None:  # noqa: ANN001
        pilot.app.privacy = True  # as `$` does, without its toast
        await pilot.pause()

    assert snap_compare(seeded_app, terminal_size=(80, 24), run_before=mask)


def test_quick_add_errors_80x24(seeded_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(
        seeded_app, terminal_size=(80, 24), press=["n", *"Deal", "tab", "tab", *"12,5x", "tab", "tab", *"someday", "enter"]
    )


def test_empty_board_120x40(db_path: Path, fixed_clock, snap_compare) -> None:  # noqa: ANN001
    app = make_app(open_database(db_path))
    app.sub_title = "crm.db"
    assert snap_compare(app, terminal_size=(120, 40))


def test_board_move_notice_80x24(seeded_app, snap_compare) -> None:  # noqa: ANN001
    # The notice keeps the right end of the summary line; the totals give way.
    assert snap_compare(seeded_app, terminal_size=(80, 24), press=["greater_than_sign"])
