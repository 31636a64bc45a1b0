"""How long `crmtui demo --deals N` takes, end to end (process start to exit).

Usage: python bench/demo_data.py [N ...]   (default: 10000 100000)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"demo-{n}.db"
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "crmtui.cli", "--db", str(path), "demo", "--deals", str(n)],
                check=True,
                capture_output=True,
            )
            elapsed = time.perf_counter() - start
            size_mb = path.stat().st_size / 1e6
            print(f"crmtui demo --deals {n:>7,}: {elapsed:6.2f} s  ({n / elapsed:,.0f} deals/s, {size_mb:.0f} MB)")


if __name__ == "__main__":
    main()
