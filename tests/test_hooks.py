"""Hooks: real executables in a config folder of the test's own, told what happened after it commits."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from crmtui.app import make_app
from crmtui.store import hooks
from crmtui.store.db import open_database
from tests.commands import ok, run
from tests.conftest import fetch

pytestmark = pytest.mark.skipif(os.name == "nt", reason="hooks are POSIX executables")

DEAL_PAYLOAD_KEYS = {"event", "deal", "old_stage", "new_stage"}


@pytest.fixture
def hook_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    monkeypatch.setenv("CRMTUI_CONFIG_DIR", str(config))
    folder = config / "hooks"
    folder.mkdir(parents=True)
    folder.chmod(0o700)
    return folder


def install(folder: Path, event: str, script: str, mode: int = 0o700) -> Path:
    path = folder / event
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(mode)
    return path


def recorder(folder: Path, event: str, out: Path) -> Path:
    """A hook that writes what it gets on stdin to `out` (whole: written aside, then renamed)."""
    return install(folder, event, f'cat > "{out}.part" && mv "{out}.part" "{out}"\n')


def appender(folder: Path, event: str, out: Path) -> Path:
    """A hook that adds what it gets, as one line, to `out`."""
    return install(folder, event, f'(cat; echo) >> "{out}"\n')


def wait_until(check: Callable[[], object], what: str) -> object:
    """Poll until `check()` is truthy; the deadline only stops a broken test from hanging."""
    deadline = time.monotonic() + 30
    while not (found := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
    return found


def payload_in(path: Path) -> dict:
    wait_until(path.exists, path.name)
    return json.loads(path.read_text())


def logged(problem: str) -> list[dict]:
    return wait_until(lambda: [e for e in hooks.log_entries() if e["problem"] == problem], f"a {problem} entry")


def shown_deal(db_path: Path, deal_id: int) -> dict:
    return json.loads(ok(db_path, "deal", "show", str(deal_id), "--json").stdout)


def test_deal_created_gets_the_deal_as_deal_show_prints_it(db_path: Path, hook_dir: Path, tmp_path: Path) -> None:
    recorder(hook_dir, "deal-created", tmp_path / "created.json")
    ok(db_path, "add", "deal", "Acme rollout", "--amount", "12000")
    payload = payload_in(tmp_path / "created.json")
    assert set(payload) == DEAL_PAYLOAD_KEYS
    assert payload["event"] == "deal-created"
    assert payload["old_stage"] is None
    assert payload["new_stage"] == payload["deal"]["stage"] == "Unqualified"
    assert payload["deal"] == shown_deal(db_path, payload["deal"]["id"])


@pytest.mark.parametrize("stage", ["Won", "Lost"])
def test_a_move_tells_stage_changed_then_won_or_lost(db_path: Path, hook_dir: Path, tmp_path: Path,
                                                    stage: str) -> None:
    told = tmp_path / "told.jsonl"
    for event in ("stage-changed", "deal-won", "deal-lost"):
        appender(hook_dir, event, told)
    ok(db_path, "add", "deal", "Acme rollout")
    ok(db_path, "move", "1", "Qualification")
    ok(db_path, "move", "1", stage)
    lines = wait_until(lambda: told.exists() and len(told.read_text().splitlines()) == 3 and told.read_text(),
                       "three events")
    events = [json.loads(line) for line in str(lines).splitlines()]
    assert [(e["event"], e["old_stage"], e["new_stage"]) for e in events] == [
        ("stage-changed", "Unqualified", "Qualification"),
        ("stage-changed", "Qualification", stage),
        (f"deal-{stage.lower()}", "Qualification", stage),
    ]
    assert all(set(e) == DEAL_PAYLOAD_KEYS for e in events)
    assert events[-1]["deal"] == shown_deal(db_path, 1)
    assert events[-1]["deal"]["stage_kind"] == stage.lower()


def test_import_finished_gets_the_summary_import_json_prints(db_path: Path, hook_dir: Path, tmp_path: Path) -> None:
    recorder(hook_dir, "import-finished", tmp_path / "import.json")
    csv = tmp_path / "deals.csv"
    csv.write_text("Title,Amount\nAcme rollout,1000\nGlobex pilot,2500\n")
    summary = json.loads(ok(db_path, "import", str(csv), "--type", "deals", "--json").stdout)
    payload = payload_in(tmp_path / "import.json")
    assert set(payload) == {"event", "import_id", "import"}
    assert payload["event"] == "import-finished"
    assert payload["import_id"] == summary["import_id"] == 1
    assert payload["import"] == summary
    assert set(hooks.sample_payload("import-finished", None)["import"]) == set(summary)


def test_a_dry_run_import_tells_no_hook(db_path: Path, hook_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    recorder(hook_dir, "import-finished", tmp_path / "import.json")
    monkeypatch.setattr(hooks, "start", lambda *a, **k: pytest.fail("a hook was started"))
    csv = tmp_path / "deals.csv"
    csv.write_text("Title,Amount\nAcme rollout,1000\n")
    ok(db_path, "import", str(csv), "--type", "deals", "--dry-run")


def _task_due(db_path: Path, deal: str, text: str, due: str) -> int:
    return json.loads(ok(db_path, "task", "add", deal, text, "--due", due, "--json").stdout)["id"]


def test_task_due_is_told_once_per_task_and_only_with_a_hook(db_path: Path, hook_dir: Path,
                                                           tmp_path: Path) -> None:
    ok(db_path, "add", "deal", "Acme rollout")
    ok(db_path, "add", "deal", "Globex pilot")
    call = _task_due(db_path, "1", "Call Acme", "today")
    later = _task_due(db_path, "2", "Send the pilot plan", "tomorrow")
    done = _task_due(db_path, "2", "Book the demo", "today")
    ok(db_path, "task", "done", str(done))  # done: never told
    ok(db_path, "deals", "list")
    # No task-due hook: nothing is marked, so a hook installed later hears of them.
    assert fetch(db_path, "SELECT count(*) FROM activity WHERE due_hook_at IS NOT NULL") == [(0,)]

    told = tmp_path / "due.jsonl"
    appender(hook_dir, "task-due", told)
    ok(db_path, "deals", "list")  # any command that opens the database
    first = json.loads(str(wait_until(lambda: told.exists() and told.read_text(), "the first task")))
    assert set(first) == {"event", "task", "deal"}
    assert first["event"] == "task-due"
    assert (first["task"]["id"], first["task"]["body"], first["task"]["due_today"]) == (call, "Call Acme", True)
    assert first["deal"] == shown_deal(db_path, 1)
    assert fetch(db_path, "SELECT id FROM activity WHERE due_hook_at IS NOT NULL") == [(call,)]

    # Run again, with another task now due: only that one is told (the first, earlier in due
    # order, would come first if it were told again).
    chase = _task_due(db_path, "2", "Chase Globex", "today")
    ok(db_path, "deals", "list")
    lines = wait_until(lambda: len(told.read_text().splitlines()) >= 2 and told.read_text().splitlines(), "a second")
    assert [json.loads(line)["task"]["id"] for line in lines] == [call, chase]
    untold = fetch(db_path, "SELECT id FROM activity WHERE kind = 'task' AND due_hook_at IS NULL")
    assert {(later,), (done,)} <= set(untold) and (call,) not in untold and (chase,) not in untold


def test_a_slow_hook_is_stopped_and_logged_and_the_change_stays(db_path: Path, hook_dir: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMTUI_HOOK_TIMEOUT", "1")
    finished = tmp_path / "finished"
    install(hook_dir, "deal-created", f'cat > /dev/null; sleep 30; touch "{finished}"\n')
    ok(db_path, "add", "deal", "Acme rollout")
    assert not finished.exists()  # the command did not wait for the hook
    assert fetch(db_path, "SELECT title FROM deal") == [("Acme rollout",)]
    (entry,) = logged("timeout")
    assert (entry["event"], entry["about"]) == ("deal-created", "deal #1 Acme rollout")
    assert entry["message"] == "stopped after 1 s (the time limit)"
    assert not finished.exists()  # stopped, with the sleep it started
    assert "stopped after 1 s" in ok(db_path, "hooks", "log").stdout


def test_a_failing_hook_is_logged_and_shown_by_hooks_log(db_path: Path, hook_dir: Path) -> None:
    install(hook_dir, "stage-changed", 'echo "webhook said 500" >&2; exit 1\n')
    ok(db_path, "add", "deal", "Acme rollout")
    ok(db_path, "move", "1", "Qualification")
    assert fetch(db_path, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [("Qualification",)]
    (entry,) = logged("failed")
    assert entry["exit_code"] == 1
    assert entry["stderr"] == "webhook said 500\n"
    shown = ok(db_path, "hooks", "log").stdout
    assert "stage-changed" in shown and "deal #1 Acme rollout" in shown
    assert "exit code 1: webhook said 500" in shown
    (as_json,) = json.loads(ok(db_path, "hooks", "log", "--json").stdout)
    assert as_json["message"] == "exit code 1: webhook said 500"


def test_hooks_log_is_newest_first(db_path: Path, hook_dir: Path) -> None:
    assert "No hook has failed." in ok(db_path, "hooks", "log").stdout
    install(hook_dir, "deal-created", 'echo "no $(grep -o "[A-Z][a-z]*" | sed -n 2p)" >&2; exit 2\n')
    ok(db_path, "add", "deal", "Acme rollout")
    logged("failed")
    ok(db_path, "add", "deal", "Globex pilot")
    wait_until(lambda: len(hooks.log_entries()) == 2, "two entries")
    assert [e["about"] for e in json.loads(ok(db_path, "hooks", "log", "--json").stdout)] == [
        "deal #2 Globex pilot", "deal #1 Acme rollout"]


def test_hooks_others_can_write_are_refused(db_path: Path, hook_dir: Path, tmp_path: Path) -> None:
    loose = install(hook_dir, "stage-changed", f'touch "{tmp_path / "loose-ran"}"\n', mode=0o777)
    recorder(hook_dir, "deal-won", tmp_path / "won.json")
    install(hook_dir, "deal-lost", "exit 0\n", mode=0o600)
    install(hook_dir, "deal_won", "exit 0\n")
    listed = ok(db_path, "hooks", "list").stdout
    assert f"refused: writable by group or others (chmod go-w {loose})" in listed
    assert "not executable" in listed and "not an event crmtui sends" in listed
    states = {h["event"]: h for h in json.loads(ok(db_path, "hooks", "list", "--json").stdout)["hooks"]}
    assert (states["deal-won"]["runnable"], states["stage-changed"]["runnable"]) == (True, False)
    assert states["deal-created"] == {"event": "deal-created", "path": None, "runnable": False, "problem": None}

    ok(db_path, "add", "deal", "Acme rollout")
    ok(db_path, "move", "1", "Won")
    ok(db_path, "move", "1", "Qualification")  # refused again: logged once
    payload_in(tmp_path / "won.json")  # stage-changed, told first, would have run before it
    assert not (tmp_path / "loose-ran").exists()
    refusals = [e for e in hooks.log_entries() if e["problem"] == "refused"]
    assert [(e["event"], e["message"]) for e in refusals] == [
        ("stage-changed", f"not run: writable by group or others (chmod go-w {loose})")]
    assert "is refused: writable by group or others" in run(db_path, "hooks", "test", "stage-changed").stderr


def test_a_hooks_folder_others_can_write_refuses_every_hook(db_path: Path, hook_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    install(hook_dir, "deal-created", "exit 0\n")
    hook_dir.chmod(0o777)
    monkeypatch.setattr(hooks, "start", lambda *a, **k: pytest.fail("a hook was started"))
    assert "the hooks folder is writable by group or others" in ok(db_path, "hooks", "list").stdout
    ok(db_path, "add", "deal", "Acme rollout")


def test_no_hook_costs_no_payload_and_no_process(db_path: Path, hook_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.store import deals

    ok(db_path, "add", "deal", "Acme rollout")
    monkeypatch.setattr(hooks, "start", lambda *a, **k: pytest.fail("a hook was started"))
    monkeypatch.setattr(deals, "deal_detail", lambda *a, **k: pytest.fail("a payload was made"))
    ok(db_path, "move", "1", "Won")
    hook_dir.rmdir()
    ok(db_path, "move", "1", "Lost")
    assert hooks.log_entries() == []


def test_hooks_test_sends_a_sample_and_shows_how_it_went(db_path: Path, hook_dir: Path, tmp_path: Path) -> None:
    recorder(hook_dir, "deal-won", tmp_path / "won.json")
    shown = ok(db_path, "hooks", "test", "deal-won").stdout
    assert "The deal-won hook ran (exit code 0)." in shown
    payload = json.loads((tmp_path / "won.json").read_text())  # waited for: no polling
    assert payload["test"] is True
    assert set(payload) == DEAL_PAYLOAD_KEYS | {"test"}
    ok(db_path, "add", "deal", "Acme rollout")
    assert set(payload["deal"]) == set(shown_deal(db_path, 1))

    install(hook_dir, "deal-lost", 'echo "told the team"; echo "no such channel" >&2; exit 4\n')
    result = run(db_path, "hooks", "test", "deal-lost")
    assert result.exit_code == 1
    assert "told the team" in result.stdout and "no such channel" in result.stdout
    assert "the deal-lost hook failed: exit code 4: no such channel" in result.stderr
    assert "no task-due hook: put an executable named task-due in" in run(db_path, "hooks", "test", "task-due").stderr
    assert "'deal-wonn' is not one of deal-created" in run(db_path, "hooks", "test", "deal-wonn").stderr
    assert hooks.log_entries() == []  # a test is shown, not logged


def test_a_hook_without_an_interpreter_line_is_logged(db_path: Path, hook_dir: Path) -> None:
    path = hook_dir / "deal-created"
    path.write_text("echo hi\n")
    path.chmod(0o700)
    ok(db_path, "add", "deal", "Acme rollout")
    (entry,) = logged("error")
    assert entry["message"] == "could not be started: does it start with a #! line?"


async def test_the_app_shows_a_hook_failure_once(db_path: Path, hook_dir: Path) -> None:
    install(hook_dir, "deal-created", 'echo "chat server down" >&2; exit 1\n')
    ok(db_path, "add", "deal", "Acme rollout")
    logged("failed")
    expected = "The deal-created hook (deal #1 Acme rollout): exit code 1: chat server down. See: crmtui hooks log"

    for times in (1, 0):  # shown at the first start, not at the next
        app = make_app(open_database(db_path))
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert [n.message for n in app._notifications if "hook" in n.message] == [expected] * times


async def test_the_app_start_tells_the_task_due_hook(db_path: Path, hook_dir: Path, tmp_path: Path) -> None:
    ok(db_path, "add", "deal", "Acme rollout")
    _task_due(db_path, "1", "Call Acme", "today")
    recorder(hook_dir, "task-due", tmp_path / "due.json")
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert payload_in(tmp_path / "due.json")["task"]["body"] == "Call Acme"
    assert fetch(db_path, "SELECT count(*) FROM activity WHERE due_hook_at IS NOT NULL") == [(1,)]


def test_a_won_move_describes_the_deal_once_for_both_of_its_hooks(db_path: Path, hook_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.store import deals

    for event in ("stage-changed", "deal-won"):
        appender(hook_dir, event, tmp_path / "told.jsonl")
    ok(db_path, "add", "deal", "Acme rollout")
    described: list[int] = []
    real = deals.deal_detail
    monkeypatch.setattr(deals, "deal_detail", lambda session, deal_id: described.append(deal_id) or real(session, deal_id))
    ok(db_path, "won", "1")
    assert described == [1]
