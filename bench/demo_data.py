"""How long `crmtui demo --deals N` takes, end to end (process start to exit): the median of a
few runs and their spread, since the machine may be busy with other work.

Usage: python bench/demo_data.py [N ...] [--runs R]   (default: 10000 100000, 3 runs)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    args = sys.argv[1:]
    runs = 3
    if "--runs" in args:
        at = args.index("--runs")
        runs = int(args[at + 1])
        del args[at:at + 2]
    sizes = [int(a) for a in args] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            times = []
            for run in range(runs):
                path = Path(tmp) / f"demo-{n}-{run}.db"
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "crmtui.cli", "--db", str(path), "demo", "--deals", str(n)],
                    check=True,
                    capture_output=True,
                )
                times.append(time.perf_counter() - start)
                size_mb = path.stat().st_size / 1e6
                path.unlink()
            median = statistics.median(times)
            print(f"crmtui demo --deals {n:>7,}: {median:6.2f} s median of {runs} ({min(times):.2f}-{max(times):.2f}),"
                  f" {n / median:,.0f} deals/s, {size_mb:.0f} MB")


if __name__ == "__main__":
    main()
