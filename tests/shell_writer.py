"""Another crmtui writing from a shell, as a process of its own (tests/test_writers.py runs two of
these beside the app): `python tests/shell_writer.py DB NAME COUNT`.

Adds COUNT deals ("NAME deal 0", ...), moves each two stages forward, and halfway imports
NAME.csv (beside the database) with `crmtui import`: 3 x COUNT writes and an import, each in its
own transaction, as quickly as it can. Any error ends it with exit code 1 and the message.
"""

from __future__ import annotations

import sys
from pathlib import Path

from crmtui.cli import app as cli
from crmtui.store import backups, board_actions
from crmtui.store.db import open_database
from crmtui.store.errors import CrmError


def main(path: str, name: str, count: int) -> None:
    backups.daily_on_open = False  # as in every test
    db = open_database(path)
    ids: list[int] = []

    def step(index: int) -> None:
        with db.session() as s:
            board_actions.step(s, ids[index], 1)

    for i in range(count):
        with db.session() as s:
            ids.append(board_actions.create(s, f"{name} deal {i}", company=f"{name} Co {i % 5}", amount=str(100 + i)).id)
        for earlier in (i - 1, i - 2):  # each deal moves twice, while later ones are added
            if earlier >= 0:
                step(earlier)
        if i == count // 2:
            csv = Path(path).with_name(f"{name}.csv")
            if cli(["--db", path, "import", str(csv), "--quiet"], standalone_mode=False):
                raise SystemExit(f"{name}: the import failed")
    for last in (count - 2, count - 1, count - 1):
        step(last)
    db.close()


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    except CrmError as exc:
        sys.exit(f"{sys.argv[2]}: {exc}")
