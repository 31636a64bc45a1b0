"""The agenda (every follow-up rule) computed over `crmtui demo --deals 100000`.

Usage: python bench/agenda.py [DEALS]   (default 100000). Prints the median of 7 runs of the
store's compute_agenda, and the wall time of the whole `crmtui today` command.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crmtui.store.db import open_database
from crmtui.store.followups import attention_queue, compute_agenda


def main() -> None:
    deals = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agenda.db"
        subprocess.run([sys.executable, "-m", "crmtui.cli", "--db", str(path), "demo", "--deals", str(deals)],
                       check=True, capture_output=True)
        db = open_database(path)
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            with db.session() as session:
                agenda = compute_agenda(session, limit=50)
            runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        with db.session() as session:
            queue = attention_queue(session)
        queue_s = time.perf_counter() - start
        db.close()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "crmtui.cli", "--db", str(path), "today"], capture_output=True)
        today_s = time.perf_counter() - start
    print(f"agenda over {deals:,} deals: median {statistics.median(runs) * 1000:.1f} ms "
          f"(min {min(runs) * 1000:.1f}, max {max(runs) * 1000:.1f}) for {agenda.total:,} flagged items "
          f"in {len(agenda.counts)} sections")
    print(f"triage queue ({len(queue):,} deals): {queue_s * 1000:.1f} ms")
    print(f"`crmtui today` end to end (process start to exit): {today_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
