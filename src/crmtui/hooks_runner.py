"""Runs the hooks of one committed change, apart from the command or app that made it
(`python -m crmtui.hooks_runner`, started by `crmtui.store.hooks.start`).

Reads one JSON object on standard input: {"time_limit": seconds, "db": path or null, "calls":
[{"event", "hook", "payload"}, ...]}, and runs the calls one after the other (a stage change is
told before the win it is part of), each within the time limit. What goes wrong is logged.
"""

from __future__ import annotations

import json
import sys

from crmtui.store import hooks


def main() -> None:
    batch = json.loads(sys.stdin.buffer.read())
    for call in batch["calls"]:
        try:
            outcome = hooks.run_hook(call["hook"], call["payload"], time_limit=batch["time_limit"],
                                     db_path=batch.get("db"))
        except Exception as exc:  # noqa: BLE001 - one hook's trouble does not stop the next
            hooks.log_failure(call, "error", f"{type(exc).__name__}: {exc}")
            continue
        if outcome.problem is not None:
            hooks.log_failure(call, outcome.problem, outcome.message or outcome.problem,
                              stderr=outcome.stderr, exit_code=outcome.exit_code)


if __name__ == "__main__":
    main()
