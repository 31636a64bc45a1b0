"""Hooks: the user's executables in the config folder's hooks/, told what happened once it has
committed.

A hook is an executable named after its event (`deal-won`, ...) in `locations.hooks_dir()`. It gets
one JSON object on standard input and runs in a process of its own (`crmtui.hooks_runner`), apart
from the command or the app that made the change, with a time limit: a slow or failing hook never
holds up or undoes the change. What goes wrong is appended to the hooks' log (`crmtui hooks log`),
and the app shows it once. As git and ssh do, a hook (or hooks folder) that someone else could
change is refused. With no hooks folder, telling the hooks costs one failed stat per event.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from crmtui import locations
from crmtui.store.sql import Session

EVENTS = ("deal-created", "stage-changed", "deal-won", "deal-lost", "task-due", "import-finished")
TIMEOUT_ENV = "CRMTUI_HOOK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
OUTPUT_KEPT = 2000  # characters of a failing hook's error output kept in the log
LOG_LIMIT = 256_000  # bytes: past this, the log keeps its newer half


@dataclass(frozen=True)
class Hook:
    """A file in the hooks folder: `name` is its event when it is one; `problem`, why it is not run."""

    name: str
    path: Path
    problem: str | None = None

    @property
    def runnable(self) -> bool:
        return self.problem is None


# --- finding the hooks --------------------------------------------------------------------------


def _loose(st: os.stat_result) -> str | None:
    """Why someone other than the user could change a file or folder with this stat, if they could."""
    if hasattr(os, "getuid") and st.st_uid not in (os.getuid(), 0):
        return "owned by another user"
    if os.name != "nt" and st.st_mode & 0o022:
        return "writable by group or others"
    return None


def _problem(folder: Path, folder_st: os.stat_result, path: Path, st: os.stat_result) -> str | None:
    import stat

    if (loose := _loose(folder_st)) is not None:
        return f"the hooks folder is {loose} (chmod go-w {folder})" if "writable" in loose else f"the hooks folder is {loose}"
    if not stat.S_ISREG(st.st_mode):
        return "not a file"
    if (loose := _loose(st)) is not None:
        return f"{loose} (chmod go-w {path})" if "writable" in loose else loose
    if path.name not in EVENTS:
        return f"not an event crmtui sends (those are: {', '.join(EVENTS)})"
    if not os.access(path, os.X_OK):
        return f"not executable (chmod u+x {path})"
    return None


def find(name: str, folder: Path | None = None) -> Hook | None:
    """The hook file called `name` (runnable or with why not); None when there is none."""
    folder = locations.hooks_dir() if folder is None else folder
    path = folder / name
    try:
        st = path.stat()  # no hooks folder: this one failed stat is the whole cost
        folder_st = folder.stat()
    except OSError:
        return None
    return Hook(name, path, _problem(folder, folder_st, path, st))


def installed() -> list[Hook]:
    """Every file in the hooks folder (hidden ones aside) by name, each runnable or with why not."""
    folder = locations.hooks_dir()
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if not entry.name.startswith("."))
    except OSError:
        return []
    return [hook for name in names if (hook := find(name, folder)) is not None]


def hook_for(event: str) -> Hook | None:
    """The runnable hook for `event`; None when there is none (one that is refused is logged, once)."""
    hook = find(event)
    if hook is None or hook.runnable:
        return hook
    _log_refusal(hook)
    return None


def time_limit() -> float:
    """Seconds a hook may run before it is stopped: $CRMTUI_HOOK_TIMEOUT, else 10."""
    try:
        seconds = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_TIMEOUT


# --- telling them -------------------------------------------------------------------------------


class _Told:
    """What one transaction has to tell the hooks: started together once it commits."""

    def __init__(self, db_path: Any) -> None:  # noqa: ANN401
        self.db_path = db_path
        self.calls: list[dict[str, Any]] = []

    def __call__(self) -> None:
        start(self.calls, self.db_path)


def _told(session: Session) -> _Told:
    for then in session.after_commit:
        if isinstance(then, _Told):
            return then
    told = _Told(getattr(session.database, "path", None))
    session.after_commit.append(told)
    return told


def _call(hook: Hook, payload: dict[str, Any]) -> dict[str, Any]:
    return {"event": hook.name, "hook": str(hook.path), "payload": payload}


def emit(session: Session, event: str, describe: Callable[[], dict[str, Any]], **extra: Any) -> None:  # noqa: ANN401
    """Tell the hook installed for `event` about a deal, once `session` commits: the deal as
    `describe()` gives it (as `crmtui deal show --json` prints it), and `extra` (old_stage,
    new_stage). Nothing at all (no query, no process) when no hook for `event` is installed."""
    hook = hook_for(event)
    if hook is None:
        return
    deal = describe()
    queue(session, hook, {"event": event, "deal": deal, "old_stage": None, "new_stage": deal["stage"], **extra})


def queue(session: Session, hook: Hook, payload: dict[str, Any]) -> None:
    """Send `payload` to `hook` once `session` commits."""
    _told(session).calls.append(_call(hook, payload))


def announce(event: str, payload: Callable[[], dict[str, Any]], db_path: Any = None) -> None:  # noqa: ANN401
    """Tell `event`'s hook about something already committed (an import); `payload` is made only
    when a hook is installed."""
    hook = hook_for(event)
    if hook is not None:
        start([_call(hook, {"event": event, **payload()})], db_path)


def start(calls: list[dict[str, Any]], db_path: Any = None) -> None:  # noqa: ANN401
    """Run hooks in a process of their own (`crmtui.hooks_runner`), which outlives this one: the
    caller never waits for them. Never raises: what cannot be started is logged."""
    if not calls:
        return
    import subprocess
    import sys

    batch = {"time_limit": time_limit(), "db": str(db_path) if db_path else None, "calls": calls}
    try:
        data = json.dumps(batch, ensure_ascii=False, default=str).encode()
        runner = subprocess.Popen(
            [sys.executable, "-m", "crmtui.hooks_runner"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)  # a Ctrl-C in the terminal does not stop it
        assert runner.stdin is not None
        runner.stdin.write(data)
        runner.stdin.close()
    except Exception as exc:  # noqa: BLE001 - after a commit: tell the log, never the caller
        for call in calls:
            log_failure(call, "error", f"could not start the hook runner: {exc}")


# --- running one ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How a hook's run ended: its exit code (None when it was stopped at the time limit or could
    not be started), what it wrote, and a one-line account of what went wrong (None: it went well)."""

    exit_code: int | None
    stdout: str
    stderr: str
    problem: str | None
    message: str | None


def run_hook(path: str | Path, payload: dict[str, Any], *, time_limit: float,
             db_path: str | None = None) -> Outcome:
    """Run one hook with `payload` on its standard input, waiting at most `time_limit` seconds
    (then it is stopped, with the processes it started). $CRMTUI_EVENT names the event, and
    $CRMTUI_DB the database, for a hook that runs crmtui itself."""
    import subprocess

    env = {**os.environ, "CRMTUI_EVENT": str(payload.get("event", ""))}
    if db_path:
        env["CRMTUI_DB"] = db_path
    data = json.dumps(payload, ensure_ascii=False, default=str).encode()
    try:
        proc = subprocess.Popen([str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as exc:
        why = "does it start with a #! line?" if exc.errno == 8 else exc.strerror or str(exc)
        return Outcome(None, "", "", "error", f"could not be started: {why}")
    try:
        out, err = proc.communicate(data, timeout=time_limit)
    except subprocess.TimeoutExpired:
        _stop(proc)
        return Outcome(None, "", "", "timeout", f"stopped after {time_limit:g} s (the time limit)")
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    if proc.returncode == 0:
        return Outcome(0, stdout, stderr, None, None)
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
    code = proc.returncode
    said = f"exit code {code}" if code > 0 else f"killed by signal {-code}"
    return Outcome(code, stdout, stderr, "failed", f"{said}: {first}" if first else said)


def _stop(proc: Any) -> None:  # noqa: ANN401 - a subprocess.Popen
    """Stop a hook and whatever it started (its own process group), and let go of its pipes."""
    import signal
    import subprocess

    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    try:
        proc.communicate(timeout=1)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass  # a grandchild that left the group still holds a pipe: not ours to wait for


# --- the log ------------------------------------------------------------------------------------


def _now_text() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def about(payload: dict[str, Any]) -> str:
    """What a payload is about, in a few words: 'deal #3 Acme rollout', 'task #9', 'import #2'."""
    if payload.get("task"):
        return f"task #{payload['task']['id']} {payload['task'].get('body', '')}".strip()
    if payload.get("deal"):
        return f"deal #{payload['deal']['id']} {payload['deal'].get('title', '')}".strip()
    if payload.get("import_id") is not None:
        return f"import #{payload['import_id']}"
    return ""


def log_failure(call: dict[str, Any], problem: str, message: str, *, stderr: str = "",
                exit_code: int | None = None) -> None:
    """Append one failure to the hooks' log (one JSON object a line). Never raises: a log that
    cannot be written loses the entry, not the change."""
    entry = {"at": _now_text(), "event": call.get("event"), "hook": call.get("hook"), "problem": problem,
             "message": message, "exit_code": exit_code, "about": about(call.get("payload") or {}),
             "stderr": stderr[-OUTPUT_KEPT:]}
    path = locations.hooks_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if path.stat().st_size > LOG_LIMIT:
            _trim(path)
    except OSError:
        pass


def _trim(path: Path) -> None:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        size += len(line.encode())
        if size > LOG_LIMIT // 2:
            break
        kept.append(line)
    spare = path.with_name(path.name + ".tmp")
    spare.write_text("".join(reversed(kept)), encoding="utf-8")
    os.replace(spare, path)


_refusals_logged: set[tuple[str, str]] = set()


def _log_refusal(hook: Hook) -> None:
    """A refused hook is logged once, not on every event it misses."""
    key = (str(hook.path), hook.problem or "")
    if key in _refusals_logged:
        return
    _refusals_logged.add(key)
    latest = next((e for e in log_entries() if e.get("hook") == key[0]), None)
    if latest is None or latest.get("problem") != "refused" or latest.get("message") != hook.problem:
        log_failure({"event": hook.name, "hook": key[0]}, "refused", f"not run: {hook.problem}")


def log_entries(limit: int | None = None) -> list[dict[str, Any]]:
    """The logged failures, newest first (a line that is not JSON is passed over)."""
    try:
        lines = locations.hooks_log_path().read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    entries = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
            if limit is not None and len(entries) >= limit:
                break
    return entries


def _seen_path() -> Path:
    return locations.config_dir() / "hooks.seen"


def unseen() -> list[dict[str, Any]]:
    """The failures logged since they were last shown (`mark_seen`), newest first."""
    try:
        seen = _seen_path().read_text(encoding="utf-8").strip()
    except OSError:
        seen = ""
    return [entry for entry in log_entries() if str(entry.get("at", "")) > seen]


def mark_seen(entries: list[dict[str, Any]]) -> None:
    """Remember that the user has been shown the failures up to the newest of `entries`."""
    if not entries:
        return
    try:
        _seen_path().parent.mkdir(parents=True, exist_ok=True)
        _seen_path().write_text(max(str(e.get("at", "")) for e in entries) + "\n", encoding="utf-8")
    except OSError:
        pass


def notice(entries: list[dict[str, Any]]) -> str:
    """One notification's text for failures (newest first)."""
    if len(entries) == 1:
        entry = entries[0]
        subject = f" ({entry['about']})" if entry.get("about") else ""
        return f"The {entry.get('event')} hook{subject}: {entry.get('message')}. See: crmtui hooks log"
    events = ", ".join(dict.fromkeys(str(e.get("event")) for e in entries))
    return f"{len(entries)} hook runs went wrong ({events}). See: crmtui hooks log"


def take_unseen_notice() -> str | None:
    """The notification for failures not shown yet, marking them shown; None when there are none.
    Cheap when the log has not changed since the last look."""
    global _log_looked_at
    path = locations.hooks_log_path()
    try:
        st = path.stat()
        key: Any = (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is None or key == _log_looked_at:
        return None
    _log_looked_at = key
    entries = unseen()
    mark_seen(entries)
    return notice(entries) if entries else None


_log_looked_at: Any = None


def sample_payload(event: str, deal: dict[str, Any] | None) -> dict[str, Any]:
    """What `crmtui hooks test` sends: `deal` (a real one), else a made-up deal, in the event's shape."""
    import datetime as dt

    from crmtui.store.line_totals import totals

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    deal = deal or {
        "id": 0, "title": "Sample deal", "company_id": None, "company": "Sample Ltd", "contact_id": None,
        "contact": "Sam Sample", "contact_email": "sam@example.com", "pipeline_id": 1, "pipeline": "Sales",
        "stage_id": 1, "stage": "Proposal sent", "stage_kind": "open", "probability": 50,
        "amount_cents": 1200000, "cost_cents": None, "currency": None, "confidence": None,
        "expected_close": None, "closed_on": None, "source": None, "lost_reason": None, "proposal_url": None,
        "external_id": None, "stage_entered_at": now, "created_at": now, "updated_at": now,
        "snoozed_until": None, "next_task_due": None, "open_tasks": 0, "tags": [], "amount": 12000.0,
        "cost": None, "profit": None, "weighted_amount": 6000.0,
        "stage_history": [{"at": now, "from": None, "to": "Proposal sent"}], "discount": None,
        "discount_bp": None, "discount_cents": None, "lines": [], "totals": totals([]).as_dict(),
    }
    payload: dict[str, Any] = {"event": event, "test": True}
    if event == "import-finished":
        payload.update(import_id=0, **{"import": {
            "import_id": 0, "dry_run": False, "type": "deals", "encoding": "UTF-8", "delimiter": "comma",
            "rows": 1, "merged_rows": 0,
            "counts": {"deal": {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}},
            "new_stages": [], "new_pipeline": None, "warnings": [], "mapping": {"Title": "title"},
            "ignored": [], "unmatched": [], "titles_made_from": None, "new_fields": [], "rejects_file": None,
            "errors": []}})
    elif event == "task-due":
        payload.update(task={"id": 0, "body": "Chase the proposal", "due_on": now[:10], "deal_id": deal["id"],
                             "deal": deal["title"], "company_id": deal["company_id"], "company": deal["company"],
                             "contact_id": deal["contact_id"], "contact": deal["contact"], "done": False,
                             "overdue": False, "due_today": True}, deal=deal)
    else:
        old = {"deal-created": None}.get(event, "Writing proposal")
        new = {"deal-won": "Won", "deal-lost": "Lost"}.get(event, deal["stage"])
        payload.update(deal=deal, old_stage=old, new_stage=new)
    return payload
