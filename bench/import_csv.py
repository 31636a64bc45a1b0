"""How fast `crmtui import` is on a big deals file, against `sqlite-utils insert` of the same file.

Generates N deals (default 100,000; about N/20 companies, N/11 contacts, tags, every stage of
the default pipeline, money and dates written the way exports write them), then times, each as
its own process from start to exit:

  1. `crmtui import deals.csv` into an empty database
  2. the same import again (every row unchanged)
  3. the first import again, into another empty database, planned in one process
     (CRMTUI_IMPORT_PROCESSES=1): what the second process brings
  4. `sqlite-utils insert db deals deals.csv --csv` (a flat table, no matching), when installed

and prints rows per second, the ratio to sqlite-utils, and the peak memory of each import process.
This machine's speed drifts by half from minute to minute, so it runs all four in rounds (fresh
databases each round) and reports each round, then the best time of each. Before each timed run
it flushes what is waiting to be written (os.sync): otherwise a run also waits behind the disk
writes of the runs before it (a few hundred MB per round) and of the file it just generated.

Usage: python bench/import_csv.py [N] [--rounds=R]   (default 100,000 deals, 3 rounds)
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ["Unqualified", "Qualification", "Writing proposal", "Proposal sent", "Negotiation",
          "Contract out for signature", "Closed Won", "Closed Lost", "N/A"]
SERVICES = ["branding", "website", "seo", "workshop", "retainer", "copywriting", "photography", "analytics"]
SOURCES = ["Referral", "Website", "Cold call", "Trade show", "LinkedIn", "Partner"]
WORDS = ["Nova", "Blue", "Iron", "Maple", "Quartz", "Atlas", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor",
         "Indigo", "Juniper", "Kestrel", "Lumen", "Mosaic", "Nimbus", "Orbit", "Pioneer"]
KINDS = ["Studio", "Labs", "Works", "Foods", "Logistics", "Bakery", "Clinic", "Partners", "Systems", "Outfitters"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Mo", "Nia", "Omar"]
LAST = ["Ahmed", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jansen", "Kowalski"]


def write_file(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    n_companies = max(1, n // 20)
    companies = []
    for i in range(n_companies):
        name = f"{WORDS[i % 20]} {WORDS[(i // 20) % 20]} {KINDS[(i // 400) % 10]} {i // 4000 or ''}".strip()
        slug = name.lower().replace(" ", "")
        companies.append((name, f"https://www.{slug}.example"))
    contacts = []
    for i in range(max(1, n // 11)):
        company = companies[i % n_companies]
        first, last = FIRST[i % 15], LAST[(i // 15) % 11]
        contacts.append((f"{first} {last} {i}", f"{first.lower()}.{i}@{company[1][12:]}", company))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date",
                    "Associated Company", "Company Domain Name", "Contact Name", "Contact Email", "Tags",
                    "Lead Source", "Deal owner"])
        for i in range(n):
            name, email, (company, website) = contacts[rng.randrange(len(contacts))]
            stage = STAGES[rng.randrange(len(STAGES))]
            amount = rng.choice((1500, 2500, 4000, 6000, 12000, 30000)) + rng.randint(0, 40) * 250
            tags = ";".join(rng.sample(SERVICES, rng.choice((1, 1, 2))))
            created = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
            close = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2027"
            w.writerow([f"D{i + 1}", f"{rng.choice(SERVICES).title()} project {i}", stage, f"${amount:,}.00", close,
                        created, company, website, name, email, tags, rng.choice(SOURCES), "Sam Seller"])


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one child process (its own peak: wait4's rusage, not the
    maximum over every child so far)."""
    # what the runs before (and the file just written) left to write: flushed, so each run waits
    # only for its own writes (os.sync: Unix)
    getattr(os, "sync", lambda: None)()
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            output.seek(0)
            sys.exit(f"failed: {' '.join(args)}\n{output.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--rounds=")]
    rounds = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--rounds=")), 3)
    n = int(args[0]) if args else 100_000
    env = {**os.environ, "CRMTUI_NOW": "2026-11-23T09:30:00"}
    crmtui = [sys.executable, "-c", "from crmtui.cli import main; main()"]
    tool = shutil.which("sqlite-utils") or str(Path(sys.executable).with_name("sqlite-utils"))
    have_tool = Path(tool).exists()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deals.csv"
        write_file(path, n)
        print(f"file: {n:,} deals, {path.stat().st_size / 1e6:.1f} MB; {rounds} rounds, each run its own process")
        best: dict[str, tuple[float, float]] = {}
        ratios = []
        for r in range(1, rounds + 1):
            for f in Path(tmp).glob("*.db*"):
                f.unlink()
            db, one_db = Path(tmp) / "crm.db", Path(tmp) / "one.db"
            for fresh in (db, one_db):
                subprocess.run([*crmtui, "--db", str(fresh), "stages"], check=True, capture_output=True, env=env)
            runs = {
                "first": lambda: timed([*crmtui, "--db", str(db), "import", "-q", "--create-stages", str(path)], env),
                "again": lambda: timed([*crmtui, "--db", str(db), "import", "-q", "--create-stages", str(path)], env),
                "one": lambda: timed([*crmtui, "--db", str(one_db), "import", "-q", "--create-stages", str(path)],
                                     {**env, "CRMTUI_IMPORT_PROCESSES": "1"}),
            }
            if have_tool:
                runs["flat"] = lambda: timed([tool, "insert", str(Path(tmp) / "flat.db"), "deals", str(path), "--csv"])
            got = {name: run() for name, run in runs.items()}
            for name, (secs, peak) in got.items():
                fastest, highest = best.get(name, (secs, peak))
                best[name] = (min(fastest, secs), max(highest, peak))
            line = (f"round {r}: import {got['first'][0]:.2f} s, re-import {got['again'][0]:.2f} s, "
                    f"one process {got['one'][0]:.2f} s")
            if have_tool:
                ratios.append(got["first"][0] / got["flat"][0])
                line += f", sqlite-utils {got['flat'][0]:.2f} s, ratio {ratios[-1]:.2f}"
            print(line, flush=True)
            if r == 1:
                counts = subprocess.run([sys.executable, "-c", (
                    "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
                    "print(*[c.execute(f'select count(*) from {t}').fetchone()[0] for t in"
                    " ('deal','company','contact','stage_change','deal_tag')])"), str(db)],
                    capture_output=True, text=True, check=True).stdout.split()
                print(f"  wrote {int(counts[0]):,} deals, {int(counts[1]):,} companies, {int(counts[2]):,} contacts, "
                      f"{int(counts[3]):,} stage changes, {int(counts[4]):,} tag links")
        print(f"best of {rounds} (peak memory: the highest of the rounds)")
        first, peak = best["first"]
        print(f"crmtui import (empty db):    {first:6.2f} s  {n / first:>9,.0f} rows/s  peak memory {peak:,.0f} MB")
        again, again_peak = best["again"]
        print(f"crmtui import (re-import):   {again:6.2f} s  {n / again:>9,.0f} rows/s  peak memory {again_peak:,.0f} MB"
              "  (all unchanged)")
        one, one_peak = best["one"]
        print(f"  the same in one process:   {one:6.2f} s  {n / one:>9,.0f} rows/s  peak memory {one_peak:,.0f} MB")
        if have_tool:
            flat = best["flat"][0]
            print(f"sqlite-utils insert --csv:   {flat:6.2f} s  {n / flat:>9,.0f} rows/s  (flat table, no matching)")
            print(f"crmtui / sqlite-utils:       {first / flat:6.2f} ×  (best against best; rounds "
                  f"{min(ratios):.2f}-{max(ratios):.2f}; goal ≤ 0.4)")
        else:
            print("sqlite-utils is not installed: pip install sqlite-utils for the comparison")


if __name__ == "__main__":
    main()
