"""The board's speed with demo data: first paint, CPU per key, memory.

Usage: python bench/board_keys.py [N ...]   (default: 10000 100000)

For each N it writes a demo database (`crmtui demo --deals N`), then, each in a fresh process:
- first paint: wall time from starting a process until the board has drawn its cards
  (headless, 120x40; median of 3 runs);
- keys: with Pilot in one process, CPU time (`time.process_time`) per key over a burst of the
  same key, minus the same for a key bound to nothing (f12), measured in the same run. Pilot's
  `press` waits for frames, so wall time says little; CPU time is what the app spends;
- memory: the peak resident set size of that process.

Budgets at 10,000 deals: first paint <= 1.0 s, no-op key <= 10 ms, navigation <= 10 ms
over the no-op key, a move (saved and shown) <= 25 ms over it, memory <= 250 MB; at 100,000
deals within twice those.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = (120, 40)
BUDGET = {"first_paint_s": 1.0, "noop_ms": 10.0, "nav_ms": 10.0, "move_ms": 25.0, "rss_mb": 250.0}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _columns_drawn(app) -> bool:  # noqa: ANN001
    from crmtui.screens.board import BoardScreen
    from crmtui.widgets.stage_column import StageColumn

    screen = app.screen
    return isinstance(screen, BoardScreen) and any(c.size.height > 0 for c in screen.query(StageColumn))


def child_first_paint(db: str) -> None:
    """Start the app as `crmtui` does and print once the board's cards are on screen."""
    import crmtui.cli  # noqa: F401 - the `crmtui` command imports its CLI first
    from crmtui.app import make_app
    from crmtui.store.db import open_database

    app = make_app(open_database(db), own_process=True)  # as `crmtui` runs it

    async def auto(pilot) -> None:  # noqa: ANN001
        while not _columns_drawn(app):
            await pilot.pause()
        await pilot.pause()  # the frame with the cards
        print("PAINTED", f"{_peak_rss_mb():.1f}", flush=True)
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=auto)


def child_keys(db: str) -> None:
    from crmtui.app import make_app
    from crmtui.store.db import open_database

    async def run() -> dict[str, float]:
        app = make_app(open_database(db), own_process=True)  # as `crmtui` runs it
        async with app.run_test(size=SIZE) as pilot:
            while not _columns_drawn(app):
                await pilot.pause()

            async def burst(keys: list[str], n: int) -> float:
                await pilot.pause()
                start = time.process_time()
                for i in range(n):
                    await pilot.press(keys[i % len(keys)])
                await pilot.pause()
                return (time.process_time() - start) / n * 1000

            # Warm up every path once (imports, caches, first queries).
            for key in ("f12", "j", "k", "l", "h", "greater_than_sign", "less_than_sign"):
                await pilot.press(key)
            out = {}
            out["noop_ms"] = await burst(["f12"], 60)
            out["down_ms"] = await burst(["j"], 60)
            out["up_ms"] = await burst(["k"], 60)
            out["across_ms"] = await burst(["l"] * 6 + ["h"] * 6, 60)
            out["end_home_ms"] = await burst(["G", "g"], 20)
            # The focused deal goes to the next stage and back: every press is a saved move.
            out["move_ms"] = await burst(["greater_than_sign", "less_than_sign"], 40)
            out["noop_after_ms"] = await burst(["f12"], 60)
            out["rss_mb"] = _peak_rss_mb()
            await pilot.press("q")
        return out

    print(json.dumps(asyncio.run(run())), flush=True)


def first_paint(db: Path) -> tuple[float, float]:
    times, rss = [], 0.0
    for _ in range(3):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--first-paint", str(db)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("PAINTED"):
                times.append(time.perf_counter() - start)
                rss = max(rss, float(line.split()[1]))
                break
        proc.wait()
    return statistics.median(times), rss


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--first-paint":
        child_first_paint(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--keys":
        child_keys(sys.argv[2])
        return
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            db = Path(tmp) / f"board-{n}.db"
            subprocess.run(
                [sys.executable, "-m", "crmtui.cli", "--db", str(db), "demo", "--deals", str(n)],
                check=True, capture_output=True,
            )
            paint, paint_rss = first_paint(db)
            keys = json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--keys", str(db)], check=True, capture_output=True, text=True, env=env
                ).stdout.strip().splitlines()[-1]
            )
            factor = 1 if n <= 10_000 else 2
            noop = keys["noop_ms"]

            def row(label: str, value: float, unit: str, budget: float | None) -> None:
                mark = "" if budget is None else ("  ok" if value <= budget * factor else "  OVER")
                limit = "" if budget is None else f"  (budget {budget * factor:g} {unit})"
                print(f"  {label:<34} {value:8.2f} {unit}{limit}{mark}")

            print(f"board with {n:,} deals (demo), {SIZE[0]}x{SIZE[1]}")
            row("first paint from process start", paint, "s", BUDGET["first_paint_s"])
            row("no-op key (f12), CPU", noop, "ms", BUDGET["noop_ms"])
            row("down (j) over no-op", keys["down_ms"] - noop, "ms", BUDGET["nav_ms"])
            row("up (k) over no-op", keys["up_ms"] - noop, "ms", BUDGET["nav_ms"])
            row("across columns (l/h) over no-op", keys["across_ms"] - noop, "ms", BUDGET["nav_ms"])
            row("last/first card (G/g) over no-op", keys["end_home_ms"] - noop, "ms", BUDGET["nav_ms"])
            row("stage move (>/<) over no-op", keys["move_ms"] - noop, "ms", BUDGET["move_ms"])
            row("no-op key again, after the moves", keys["noop_after_ms"], "ms", None)
            row("peak memory (keys run)", keys["rss_mb"], "MB", BUDGET["rss_mb"])
            row("peak memory (first paint run)", paint_rss, "MB", BUDGET["rss_mb"])


if __name__ == "__main__":
    main()
