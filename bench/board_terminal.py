"""The board's CPU per key in a real terminal, as a user runs it.

Usage: python bench/board_terminal.py [N ...] [--presses P] [--runs R] [--profile DIR]
       (default: 10000 100000 deals, 40 presses, 3 runs)

For each N it makes a demo database with the installed `crmtui demo --deals N`, then starts the
installed `crmtui --db FILE` on a pseudo-terminal of 160x50 (as a terminal emulator would), and
presses keys the way a person does: one key, then wait until the screen has settled (no output
for a moment). The figure is the CPU time of the app's process (user + system, all its threads,
from /proc/PID/stat) over P presses, divided by P:
- no-op: a key bound to nothing (F12): what any key costs;
- navigation: down P/2 times, then up P/2 times (the column scrolls past its first page);
- move: the next stage (>) and back (<) in turn, so the board ends as it began: each press
  saves a move, puts the card in its new column and says so on the summary line.
Each figure is the median of R runs, each run a fresh process; the spread is min-max.
Goals at 10,000 deals: move <= 25 ms, navigation <= 10 ms, no-op <= 10 ms; at 100,000 within
twice those.

--profile DIR instead runs the app once per size with cProfile switched on for each kind of key
only, and writes DIR/board-N-KIND.prof, to read with `python -m pstats` (cProfile roughly
doubles the CPU figures).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pty
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

COLUMNS, ROWS = 160, 50
GOALS = {"no-op": 10.0, "navigation": 10.0, "move": 25.0}
KEYS = {"f12": "\x1b[24~", "down": "\x1b[B", "up": "\x1b[A", "next": ">", "back": "<", "quit": "q"}
SYS_TGKILL = 234  # x86-64 Linux
QUIET = 0.05  # a key's screen has settled when nothing was written for this long
BIN = Path(sys.executable).parent
# `crmtui` with a profiler that SIGUSR1 switches on and SIGUSR2 off, writing argv[1]-N.prof.
PROFILED = """
import cProfile, signal, sys
prefix, runs = sys.argv.pop(1), []
def start(*_):
    runs.append(cProfile.Profile())
    runs[-1].enable()
def stop(*_):
    runs[-1].disable()
    runs[-1].dump_stats(f"{prefix}-{len(runs)}.prof")
signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
from crmtui.cli import main
main()
"""


class Terminal:
    """`crmtui` on a pseudo-terminal: keys in, everything it writes read and counted."""

    def __init__(self, args: list[str]) -> None:
        self.last_output = time.monotonic()
        self.output = 0
        pid, self.fd = pty.fork()
        if pid == 0:  # the child: the app, with the pseudo-terminal as its terminal
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
            env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
            os.execve(args[0], args, env)
        self.pid = pid
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            self.output += len(data)
            self.last_output = time.monotonic()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the app's process so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self, quiet: float, timeout: float = 30.0) -> None:
        """Wait until nothing was written for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last_output
            if idle >= quiet:
                return
            time.sleep(quiet - idle)

    def press(self, key: str) -> None:
        pressed = time.monotonic()
        os.write(self.fd, KEYS[key].encode())
        time.sleep(QUIET)
        while time.monotonic() - max(pressed, self.last_output) < QUIET:
            time.sleep(0.005)

    def signal_main_thread(self, signum: int) -> None:
        """A signal to the app's main thread itself, which runs Python's signal handlers: one to
        the process may go to another of its threads and wait until the main one wakes up."""
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syscall(SYS_TGKILL, self.pid, self.pid, signum) != 0:
            raise OSError(ctypes.get_errno(), "tgkill")
        time.sleep(0.5)  # handled (a profile written) before the next signal

    def close(self) -> None:
        try:
            os.write(self.fd, KEYS["quit"].encode())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                done, _status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.05)
            else:
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)
        finally:
            os.close(self.fd)


def per_key(term: Terminal, keys: list[str], profiled: bool) -> float:
    """CPU milliseconds per press over `keys`, pressed one by one."""
    term.settle(0.5)
    if profiled:
        term.signal_main_thread(signal.SIGUSR1)
    start = term.cpu_seconds()
    for key in keys:
        term.press(key)
    term.settle(4.5)  # the board's notices go after 4 s: their removal is part of the key's cost
    cpu = (term.cpu_seconds() - start) / len(keys) * 1000
    if profiled:
        term.signal_main_thread(signal.SIGUSR2)
    return cpu


def one_run(db: Path, presses: int, profile: Path | None = None) -> dict[str, float]:
    app = [str(BIN / "crmtui"), "--db", str(db)]
    if profile is not None:
        app = [sys.executable, "-c", PROFILED, str(profile), *app[1:]]
    term = Terminal(app)
    try:
        term.settle(1.0, timeout=60)  # the first paint
        if term.output < 2000:
            raise SystemExit(f"the app did not draw the board ({term.output} bytes written)")
        for key in ("f12", "down", "up", "next", "back"):  # warm up every path once
            term.press(key)
        half, profiled = presses // 2, profile is not None
        return {  # in this order: a profile's number says which kind it is
            "no-op": per_key(term, ["f12"] * presses, profiled),
            "navigation": per_key(term, ["down"] * half + ["up"] * half, profiled),
            "move": per_key(term, ["next", "back"] * half, profiled),
        }
    finally:
        term.close()


def main() -> None:
    args = sys.argv[1:]
    if "-h" in args or "--help" in args:
        print(__doc__)
        return
    options = {"--presses": "40", "--runs": "3", "--profile": ""}
    for name in options:
        if name in args:
            at = args.index(name)
            options[name] = args[at + 1]
            del args[at:at + 2]
    presses, runs = int(options["--presses"]), int(options["--runs"])
    profile_dir = Path(options["--profile"]) if options["--profile"] else None
    sizes = [int(a) for a in args] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            db = Path(tmp) / f"board-{n}.db"
            subprocess.run([str(BIN / "crmtui"), "--db", str(db), "demo", "--deals", str(n)], check=True,
                           capture_output=True)
            if profile_dir is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
                cpu = one_run(db, presses, profile_dir / f"board-{n}")
                for number, (kind, ms) in enumerate(cpu.items(), 1):
                    named = profile_dir / f"board-{n}-{kind}.prof"
                    (profile_dir / f"board-{n}-{number}.prof").rename(named)
                    print(f"{named} ({ms:.1f} ms a key under the profiler)")
                continue
            results = [one_run(db, presses) for _ in range(runs)]
            factor = 1 if n <= 10_000 else 2
            print(f"board in a {COLUMNS}x{ROWS} terminal, {n:,} deals, CPU per key (median of {runs} runs,"
                  f" {presses} presses each)")
            for name, goal in GOALS.items():
                values = [r[name] for r in results]
                median = statistics.median(values)
                mark = "ok" if median <= goal * factor else "OVER"
                print(f"  {name:<11} {median:6.1f} ms  ({min(values):.1f}-{max(values):.1f})"
                      f"  goal <= {goal * factor:g} ms  {mark}")


if __name__ == "__main__":
    main()
