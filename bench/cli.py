"""How long crmtui's shell commands take as a shell meets them, against `sqlite-utils rows DB deal
--limit 5` (a Python CLI doing a comparable read) on the same database.

Installs this checkout the regular way (`pip install --no-deps --target`: built, copied and
compiled as pip installs any package; the dependencies come from the running Python) into a
temporary folder, makes a demo database of N deals (default 10,000) with it, and times each
command as its own process from start to exit, output to a pipe, without a pager:

  read      deals list --limit 20, deal show, stages, today, companies list --search X,
            contacts list --search X                                   goal <= 1.2x
  report    report, report --json                                      goal <= 2x
  write     add deal, move, won, lost, log --call, task add            goal <= 2x
  long      contacts list, tasks, deals list (every row): seconds to the first line and to
            the end (no goal against sqlite-utils: the figure is how soon the first rows show)

This machine's speed drifts from minute to minute, so the commands run in rounds: each round
times sqlite-utils and then every command once; a command's ratio is the median over the rounds
of its time divided by the same round's sqlite-utils time. Writes work on deals of their own
(one per round), so every round changes the database the same way.

Usage: python bench/cli.py [N] [--rounds=R]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"read": 1.2, "report": 2.0, "write": 2.0}


def install(target: Path) -> list[str]:
    """This checkout installed the regular way into `target`: the command line that runs it."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True)
    os.environ["PYTHONPATH"] = str(target)  # ahead of the editable checkout, if there is one
    script = target / "bin" / "crmtui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "crmtui.cli"]


def sqlite_utils() -> str | None:
    found = shutil.which("sqlite-utils") or str(Path(sys.executable).with_name("sqlite-utils"))
    return found if Path(found).exists() else None


def timed(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(seconds to the first line of output, seconds to the end) of one process that must exit
    with a code in `ok`."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - start
    proc.stdout.read()
    code = proc.wait()
    if code not in ok:
        raise SystemExit(f"{' '.join(argv)} failed with exit code {code}")
    return first, time.perf_counter() - start


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    rounds = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--rounds=")), 7)
    tool = sqlite_utils()
    if tool is None:
        raise SystemExit("sqlite-utils is not installed: pip install sqlite-utils (or put it on PATH)")
    with tempfile.TemporaryDirectory(prefix="crmtui-bench-cli-") as tmp:
        folder = Path(tmp)
        crmtui = install(folder / "install")
        db = folder / "crm.db"
        subprocess.run([*crmtui, "--db", str(db), "demo", "--deals", str(n)], check=True, capture_output=True)
        base = [*crmtui, "--db", str(db), "--no-pager"]
        subprocess.run([*base, "stages"], check=True, capture_output=True)  # the day's backup, taken once
        open_ids = [int(line.split()[0].lstrip("#")) for line in subprocess.run(
            [*base, "deals", "list", "--open", "--limit", str(4 * rounds + 4)], check=True, capture_output=True,
            text=True).stdout.splitlines()[2:] if line.strip() and line.split()[0].lstrip("#").isdigit()]
        search_company = "Blue"
        search_contact = "Ana"
        show_id = open_ids[0]

        def commands(r: int) -> list[tuple[str, str, list[str]]]:
            mine = open_ids[1 + 4 * r: 5 + 4 * r]  # four deals of this round's own
            return [
                ("read", "deals list --limit 20", ["deals", "list", "--limit", "20"]),
                ("read", "deal show", ["deal", "show", str(show_id)]),
                ("read", "stages", ["stages"]),
                ("read", "today", ["today"]),
                ("read", f"companies list --search {search_company}", ["companies", "list", "--search", search_company]),
                ("read", f"contacts list --search {search_contact}", ["contacts", "list", "--search", search_contact]),
                ("report", "report", ["report"]),
                ("report", "report --json", ["report", "--json"]),
                ("write", "add deal", ["add", "deal", f"Bench deal {r}", "--company", "Bench Ltd", "--amount", "1200"]),
                ("write", "move", ["move", str(mine[0]), "Negotiation"]),
                ("write", "won", ["won", str(mine[1])]),
                ("write", "lost", ["lost", str(mine[2]), "--reason", "Price too high"]),
                ("write", "log --call", ["log", str(mine[3]), "--call", "Talked about the timeline"]),
                ("write", "task add", ["task", "add", str(mine[3]), "Send the offer", "--due", "+3d"]),
                ("long", "contacts list", ["contacts", "list"]),
                ("long", "tasks", ["tasks"]),
                ("long", "deals list", ["deals", "list"]),
            ]

        reference = [tool, "rows", str(db), "deal", "--limit", "5"]
        ratios: dict[str, list[float]] = {}
        seconds: dict[str, list[tuple[float, float]]] = {}
        kinds: dict[str, str] = {}
        refs: list[float] = []
        for r in range(rounds):
            ref = timed(reference)[1]
            refs.append(ref)
            for kind, name, argv in commands(r):
                first, total = timed([*base, *argv], (0, 1) if argv == ["today"] else (0,))  # (1: something is due)
                kinds[name] = kind
                seconds.setdefault(name, []).append((first, total))
                ratios.setdefault(name, []).append(total / ref)
            print(f"round {r + 1}: sqlite-utils {ref:.3f} s", flush=True)

    print(f"\n{n:,} deals, {rounds} rounds; sqlite-utils rows --limit 5: median {statistics.median(refs):.3f} s\n")
    print(f"{'command':<34} {'kind':<7} {'first line':>10} {'seconds':>8} {'ratio':>6}  goal")
    worst: dict[str, tuple[float, str]] = {}
    for name, kind in kinds.items():
        first = statistics.median(s[0] for s in seconds[name])
        total = statistics.median(s[1] for s in seconds[name])
        ratio = statistics.median(ratios[name])
        goal = GOALS.get(kind)
        mark = "" if goal is None else f"<= {goal}x {'ok' if ratio <= goal else 'MISSED'}"
        print(f"{name:<34} {kind:<7} {first:>10.3f} {total:>8.3f} {ratio:>6.2f}  {mark}")
        if goal is not None and ratio > worst.get(kind, (0.0, ""))[0]:
            worst[kind] = (ratio, name)
    print()
    for kind, (ratio, name) in worst.items():
        print(f"slowest {kind}: {name}, {ratio:.2f}x sqlite-utils (goal <= {GOALS[kind]}x)")


if __name__ == "__main__":
    main()
