"""How fast `crmtui import` is on big deals files of three shapes, against `sqlite-utils insert`
of the same file.

Generates N rows (default 100,000) of each shape, with every stage of the default pipeline and
money and dates written the way each writes them:

  plain      a spreadsheet as people keep one: deal, company, contact, email, stage, amount and
             cost with cents, expected close, source, tags, confidence; no id column
             (N x 9% contacts at N x 5% companies)
  hubspot    a HubSpot deals export: record ids, `$12,500.00`, `MM/DD/YYYY` close dates, created
             times, company domains (N/20 companies, N/11 contacts)
  pipedrive  a Pipedrive deals export: `;`-separated, `12.500,00` with a currency column, status
             won/lost/open, `DD.MM.YYYY` dates, labels (N/20 organizations, N/11 persons)

and times, for each, every run its own process from start to exit:

  1. `crmtui import FILE` into an empty database
  2. the same import again (every row unchanged)
  3. the first import again, into another empty database, planned in one process
     (CRMTUI_IMPORT_PROCESSES=1): what the second process brings
  4. `sqlite-utils insert db deals FILE --csv` (a flat table, no matching; `--delimiter ";"`
     for Pipedrive's), when installed (on PATH or next to this Python)

and prints seconds, the ratio to sqlite-utils (of the same round), the re-import and the peak
memory of each import process. This machine's speed drifts by half from minute to minute, so
it runs the four in rounds (fresh databases each round), prints each round, then the median
of the rounds (a ratio: the median of each round's own ratio). Before each timed run it flushes
what is waiting to be written (os.sync): otherwise a run also waits behind the disk writes of
the runs before it (a few hundred MB per round) and of the file it just generated.

Usage: python bench/import_csv.py [N] [--rounds=R] [--shapes=plain,hubspot,pipedrive]
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

STAGES = ["Unqualified", "Qualification", "Writing proposal", "Proposal sent", "Negotiation",
          "Contract out for signature", "Closed Won", "Closed Lost", "N/A"]
PLAIN_STAGES = ["Unqualified", "Qualification", "Writing proposal", "Proposal sent", "Negotiation",
                "Contract out for signature", "Won", "Lost"]
PIPEDRIVE_STAGES = ["Unqualified", "Qualification", "Writing proposal", "Proposal sent", "Negotiation",
                    "Contract out for signature"]
SERVICES = ["branding", "website", "seo", "workshop", "retainer", "copywriting", "photography", "analytics"]
SOURCES = ["Referral", "Website", "Cold call", "Trade show", "LinkedIn", "Partner"]
LOST_REASONS = ["Price too high", "Chose a competitor", "No budget", "Timing"]
WORDS = ["Nova", "Blue", "Iron", "Maple", "Quartz", "Atlas", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor",
         "Indigo", "Juniper", "Kestrel", "Lumen", "Mosaic", "Nimbus", "Orbit", "Pioneer"]
KINDS = ["Studio", "Labs", "Works", "Foods", "Logistics", "Bakery", "Clinic", "Partners", "Systems", "Outfitters"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Mo", "Nia", "Omar"]
LAST = ["Ahmed", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jansen", "Kowalski"]


def people(n_companies: int, n_contacts: int) -> list[tuple[str, str, tuple[str, str]]]:
    """(contact name, email, (company, website)) of `n_contacts` people at `n_companies` companies."""
    companies = []
    for i in range(n_companies):
        name = f"{WORDS[i % 20]} {WORDS[(i // 20) % 20]} {KINDS[(i // 400) % 10]} {i // 4000 or ''}".strip()
        slug = name.lower().replace(" ", "")
        companies.append((name, f"https://www.{slug}.example"))
    contacts = []
    for i in range(n_contacts):
        company = companies[i % n_companies]
        first, last = FIRST[i % 15], LAST[(i // 15) % 11]
        contacts.append((f"{first} {last} {i}", f"{first.lower()}.{i}@{company[1][12:]}", company))
    return contacts


def write_hubspot(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    contacts = people(max(1, n // 20), max(1, n // 11))
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


def write_plain(path: Path, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    contacts = people(max(1, n // 20), max(1, n * 9 // 100))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Deal", "Company", "Contact", "Email", "Stage", "Amount", "Cost", "Expected close", "Source",
                    "Tags", "Confidence"])
        for i in range(n):
            name, email, (company, _website) = contacts[rng.randrange(len(contacts))]
            cents = rng.randint(50_000, 5_000_000)
            cost = cents * rng.randint(10, 60) // 100
            close = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            tags = ", ".join(rng.sample(SERVICES, rng.choice((0, 1, 1, 2))))
            w.writerow([f"{rng.choice(SERVICES).title()} for {company} #{i}", company, name, email,
                        PLAIN_STAGES[rng.randrange(len(PLAIN_STAGES))], f"{cents // 100:,}.{cents % 100:02d}",
                        f"{cost // 100:,}.{cost % 100:02d}", close, rng.choice(SOURCES), tags,
                        rng.choice(("", "2", "3", "4", "5"))])


def write_pipedrive(path: Path, n: int, seed: int = 13) -> None:
    rng = random.Random(seed)
    contacts = people(max(1, n // 20), max(1, n // 11))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency of value", "Deal - Stage",
                    "Deal - Status", "Deal - Expected close date", "Deal - Lost reason", "Organization - Name",
                    "Person - Name", "Person - Email", "Deal - Label"])
        for i in range(n):
            name, email, (company, _website) = contacts[rng.randrange(len(contacts))]
            units = rng.choice((1500, 2400, 4000, 6500, 9000, 12500, 18000)) + rng.randint(0, 20) * 100
            status = rng.choice(("open", "open", "open", "won", "lost"))
            close = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2027"
            w.writerow([400 + i, f"{rng.choice(SERVICES).title()} – {company} {i}",
                        f"{units // 1000}.{units % 1000:03d},00" if units >= 1000 else f"{units},00", "EUR",
                        PIPEDRIVE_STAGES[rng.randrange(len(PIPEDRIVE_STAGES))], status, close,
                        rng.choice(LOST_REASONS) if status == "lost" else "", company, name, email,
                        rng.choice(SERVICES)])


SHAPES: dict[str, Callable[[Path, int], None]] = {"plain": write_plain, "hubspot": write_hubspot,
                                                   "pipedrive": write_pipedrive}


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


def run_shape(shape: str, path: Path, tmp: Path, rounds: int, tool: str | None) -> dict[str, float]:
    """Every round of one shape, printed; the medians (seconds, ratio, peak MB)."""
    env = {**os.environ, "CRMTUI_NOW": "2026-11-23T09:30:00"}
    crmtui = [sys.executable, "-c", "from crmtui.cli import main; main()"]
    got_all: dict[str, list[tuple[float, float]]] = {}
    ratios = []
    for r in range(1, rounds + 1):
        for f in tmp.glob("*.db*"):
            f.unlink()
        db, one_db = tmp / "crm.db", tmp / "one.db"
        for fresh in (db, one_db):
            subprocess.run([*crmtui, "--db", str(fresh), "stages"], check=True, capture_output=True, env=env)
        command = ["import", "-q", "--create-stages", str(path)]
        runs = {
            "first": lambda: timed([*crmtui, "--db", str(db), *command], env),
            "again": lambda: timed([*crmtui, "--db", str(db), *command], env),
            "one": lambda: timed([*crmtui, "--db", str(one_db), *command], {**env, "CRMTUI_IMPORT_PROCESSES": "1"}),
        }
        if tool:
            flat = [tool, "insert", str(tmp / "flat.db"), "deals", str(path), "--csv"]
            if shape == "pipedrive":
                flat += ["--delimiter", ";"]
            runs["flat"] = lambda: timed(flat)
        got = {name: run() for name, run in runs.items()}
        for name, result in got.items():
            got_all.setdefault(name, []).append(result)
        line = (f"  round {r}: import {got['first'][0]:.2f} s, re-import {got['again'][0]:.2f} s, "
                f"one process {got['one'][0]:.2f} s")
        if tool:
            ratios.append(got["first"][0] / got["flat"][0])
            line += f", sqlite-utils {got['flat'][0]:.2f} s, ratio {ratios[-1]:.2f}"
        print(line, flush=True)
        if r == 1:
            counts = subprocess.run([sys.executable, "-c", (
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
                "print(*[c.execute(f'select count(*) from {t}').fetchone()[0] for t in"
                " ('deal','company','contact','stage_change','deal_tag')])"), str(db)],
                capture_output=True, text=True, check=True).stdout.split()
            print(f"    wrote {int(counts[0]):,} deals, {int(counts[1]):,} companies, {int(counts[2]):,} contacts, "
                  f"{int(counts[3]):,} stage changes, {int(counts[4]):,} tag links")
    median = {name: statistics.median(secs for secs, _ in runs) for name, runs in got_all.items()}
    median["peak"] = max(peak for name in ("first", "again", "one") for _, peak in got_all[name])
    if ratios:
        median["ratio"] = statistics.median(ratios)
    return median


def main() -> None:
    options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rounds = int(options.get("rounds", 3))
    shapes = options.get("shapes", ",".join(SHAPES)).split(",")
    n = int(args[0]) if args else 100_000
    tool = shutil.which("sqlite-utils") or str(Path(sys.executable).with_name("sqlite-utils"))
    tool = tool if Path(tool).exists() else None
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in shapes:
            path = Path(tmp) / f"{shape}.csv"
            SHAPES[shape](path, n)
            print(f"{shape}: {n:,} deals, {path.stat().st_size / 1e6:.1f} MB; {rounds} rounds, each run its own "
                  "process", flush=True)
            results[shape] = run_shape(shape, path, Path(tmp), rounds, tool)
            path.unlink()
    print(f"median of {rounds} rounds (peak memory: the highest of any import run)")
    print("shape        import    ratio   re-import   one process   sqlite-utils   peak memory")
    for shape, m in results.items():
        ratio = f"{m['ratio']:5.2f} ×" if "ratio" in m else "    - "
        flat = f"{m['flat']:6.2f} s" if "flat" in m else "      - "
        print(f"{shape:<10} {m['first']:6.2f} s  {ratio}  {m['again']:6.2f} s    {m['one']:6.2f} s      {flat}"
              f"      {m['peak']:4.0f} MB")
    if tool:
        slowest = max(results, key=lambda s: results[s]["ratio"])
        print(f"slowest: {slowest}, {results[slowest]['ratio']:.2f} × sqlite-utils (goal ≤ 0.4), re-import "
              f"{max(m['again'] for m in results.values()):.2f} s at most (goal ≤ 2.5), peak memory "
              f"{max(m['peak'] for m in results.values()):.0f} MB (goal ≤ 200)")
    else:
        print("sqlite-utils is not installed: pip install sqlite-utils (or put it on PATH) for the ratios")


if __name__ == "__main__":
    main()
