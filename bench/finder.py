"""The finder and the record lists at 100,000 deals: milliseconds per keystroke.

Builds `crmtui demo --deals N` (~N/3 companies, ~N/2 contacts) in a temporary directory, or uses
`--db PATH`, then types queries one character at a time through the same store functions the
finder (ctrl+f), the command palette and the companies/contacts lists call.

Usage: python bench/finder.py [--deals N] [--db PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "website relaunch", "seo audit", "maplewave", "blue", "jonas", "anna.meyer", "mail.example",
    "acme", "summitmark consulting", "k", "x", "zz top", "branding – private", "hello@stone",
]


def keystrokes(query: str) -> list[str]:
    return [query[: i + 1] for i in range(len(query))]


def timed(fn, *args, **kwargs) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def report(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{name:<34} {len(samples):>4} keystrokes  median {statistics.median(samples):6.2f} ms"
          f"  p95 {p95:6.2f} ms  max {samples[-1]:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    from crmtui.store.db import open_database
    from crmtui.store.search import company_page, contact_page, find_records

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        if args.db is None:
            subprocess.run([sys.executable, "-m", "crmtui.cli", "--db", str(path), "demo", "--deals", str(args.deals)],
                           check=True, capture_output=True)
        db = open_database(path)
        with db.session() as s:
            conn = s.connection()
            counts = [conn.exec_driver_sql(f"SELECT count(*) FROM {t} WHERE deleted_at IS NULL").scalar_one()
                      for t in ("deal", "company", "contact")]
            indexed = conn.exec_driver_sql("SELECT count(*) FROM search_index").scalar_one()
        print(f"{path.name}: {counts[0]:,} deals, {counts[1]:,} companies, {counts[2]:,} contacts "
              f"({indexed:,} rows in the finder's index)")
        finder, companies, contacts = [], [], []
        with db.session() as s:
            find_records(s, "warm up")
            for query in QUERIES:
                for typed in keystrokes(query):
                    finder.append(timed(find_records, s, typed, limit=20))
                    companies.append(timed(company_page, s, search=typed, limit=100))
                    contacts.append(timed(contact_page, s, search=typed, limit=100))
        report("finder (ctrl+f, palette)", finder)
        report("companies list, search", companies)
        report("contacts list, search", contacts)
        with db.session() as s:
            pages = [timed(company_page, s, sort=sort, offset=offset, limit=100)
                     for sort in ("name", "domain", "newest") for offset in (0, 10_000, 30_000)]
            pages += [timed(contact_page, s, sort=sort, offset=offset, limit=100)
                      for sort in ("name", "email", "newest") for offset in (0, 20_000, 45_000)]
        print(f"{'list page (sort, deep offset)':<34} {len(pages):>4} pages       median {statistics.median(pages):6.2f} ms"
              f"  max {max(pages):6.2f} ms  (loaded in a worker thread)")
        # Keeping the index in step: the triggers' cost on a write.
        from crmtui.store.editing import update_record

        with db.session() as s:
            writes = [timed(update_record, s, "company", i, {"name": f"Renamed {i}"}) for i in range(1, 201)]
            s.rollback()
        print(f"{'rename a company (index in step)':<34} {len(writes):>4} writes      median {statistics.median(writes):6.2f} ms")
        db.close()


if __name__ == "__main__":
    main()
