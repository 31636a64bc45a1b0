"""Planning a big deals file in a second process while this one writes what is planned.

Planning is Python and takes one core; writing is SQLite. Threads cannot share that work (each
statement needs Python's lock to bind its values, and handing the lock back and forth slowed
both sides more than it saved), so on Linux a big import forks. It forks when the planner has
found as many new deals as the table holds (and BULK_MIN_ROWS), the point from which the import
drops the deal indexes and builds them again at the end: a re-import that changes little, or a
small file, stays in one process. The child goes on reading the file from that row and sends
each few thousand new deals (rows, stage changes, tag links, custom values, and the companies and
contacts planned meanwhile) through a pipe; the parent, which
holds the import's one transaction, writes them as they come. When the file is done, the child
sends the rest of the plan (counts, rejects, changes to known records) and exits; the parent
checks it and writes the rest, and nothing is committed before that.

The child never touches the database: all it needs was read before, it never returns into the
code that called the planner, and it leaves with `os._exit`, so no connection is closed or
checkpointed from it. If either side fails (an error, Ctrl-C, a killed process), the parent
stops the child and rolls back.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn

from crmtui.store.errors import CrmError
from crmtui.store.importer.handover import DealChunk, PlannedElsewhere
from crmtui.store.importer.plan import Plan
from crmtui.store.importer.planner import Planner


PIPE_BYTES = 1 << 20  # Linux's default limit for a pipe's buffer (/proc/sys/fs/pipe-max-size)


class PlanningFailed(CrmError):
    """The planning process stopped without a plan (it crashed or was killed)."""


def available() -> bool:
    """Fork only where it is cheap and safe: Linux (macOS frameworks may not survive a fork).
    CRMTUI_IMPORT_PROCESSES=1 plans in this process."""
    return sys.platform == "linux" and hasattr(os, "fork") and os.environ.get("CRMTUI_IMPORT_PROCESSES") != "1"


class _ToParent:
    """The child's end: each message is a pickle after its length (8 bytes)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def send(self, kind: str, payload: Any) -> None:
        data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
        self.out.write(len(data).to_bytes(8, "little"))
        self.out.write(data)
        self.out.flush()

    def __call__(self, chunk: DealChunk) -> None:
        self.send("chunk", chunk)


def _drain(fd: int, messages: queue.SimpleQueue[bytes | None]) -> None:
    """The parent's reading thread: takes each message off the pipe as soon as it is sent, so
    the child never waits on a full pipe while the parent writes (ends with None at the end)."""
    try:
        with os.fdopen(fd, "rb", buffering=1 << 20) as inp:
            while len(head := inp.read(8)) == 8:
                size = int.from_bytes(head, "little")
                data = inp.read(size)
                if len(data) != size:
                    break
                messages.put(data)
    except OSError:
        pass
    finally:
        messages.put(None)


class Fork:
    """The planner's `Handover` when it may fork: `write` (in this process) gets each chunk of new
    deals the child plans; `progress` gets the child's progress."""

    def __init__(self, write: Callable[[DealChunk], None], threshold: int,
                 progress: Callable[[int], None] | None) -> None:
        self.write = write
        self.threshold = threshold
        self.progress = progress

    def begin(self, planner: Planner) -> None:
        """Fork: the child plans the rest, this process writes (neither returns here). When the
        system will not fork (out of processes or memory), return: the import plans in one."""
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return
        try:  # a chunk (~0.5 MB) fits: the child never waits for this process to take it
            import fcntl  # (Unix only: `available` keeps this to Linux)

            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (OSError, AttributeError):
            pass  # (a smaller pipe works, the child then waits at times)
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:
            os.close(read_fd)
            self._child(planner, write_fd, parent)
        os.close(write_fd)
        raise PlannedElsewhere(self._parent(planner, pid, read_fd))

    def _child(self, planner: Planner, write_fd: int, parent: int) -> NoReturn:
        """Plan the rest of the file, send it, leave: never returns into the caller's code."""
        code = 1
        try:
            _die_with(parent)
            out = os.fdopen(write_fd, "wb", buffering=1 << 20)
            to_parent = _ToParent(out)
            planner.handing.send = to_parent
            if self.progress is not None:
                planner.progress = lambda line: to_parent.send("progress", line)
            planner.hand_over()  # what was planned before the fork
            plan = planner.go_on()
            portable, _left = _portable(plan, planner)
            to_parent.send("plan", portable)
            code = 0
        except BaseException as exc:  # everything goes to the parent, which decides
            try:
                to_parent.send("error", _portable_error(exc))
            except BaseException:
                pass
        finally:
            os._exit(code)

    def _parent(self, planner: Planner, pid: int, read_fd: int) -> Plan:
        """Write what the child sends until its plan comes; stop and collect it on any failure."""
        finished = False
        messages: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        reader = threading.Thread(target=_drain, args=(read_fd, messages), name="crmtui-import-pipe", daemon=True)
        reader.start()
        try:
            while True:
                data = messages.get()
                if data is None:
                    raise PlanningFailed("the import's planning process stopped unexpectedly; nothing was written")
                kind, payload = pickle.loads(data)
                del data
                if kind == "chunk":
                    self.write(payload)
                elif kind == "progress":
                    if self.progress is not None:
                        self.progress(payload)
                elif kind == "error":
                    raise payload
                else:
                    plan: Plan = payload
                    plan.csv, plan.mapping = planner.csv, planner.mapping
                    finished = True
                    return plan
        finally:
            if not finished:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _reap(pid)
            reader.join()


def _die_with(parent: int) -> None:
    """Have the kernel kill this (child) process when its parent dies (Linux's
    PR_SET_PDEATHSIG): a parent killed mid-import leaves no planner running on."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # then the child stops at its next message, on a broken pipe
    if os.getppid() != parent:  # the parent died before that was in place
        os._exit(1)


def _reap(pid: int) -> None:
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except ChildProcessError:
            return
        except KeyboardInterrupt:  # a second Ctrl-C: still collect the child
            continue


def _portable(plan: Plan, planner: Planner) -> tuple[Plan, list[Any]]:
    """The plan without what the parent does not need: the file's text, and the new records it
    was sent already (of the records that existed, the changed ones stay, for their undo); and
    what it left out, for the caller to hold until it leaves. (This process leaves with
    `os._exit`: freeing 100,000 planned deals one object at a time would only delay the plan,
    by 30 ms.)"""
    left: list[Any] = []
    plan.csv = plan.csv.__class__(**{**plan.csv.__dict__, "text": ""})
    for entity, table in plan.tables.items():
        left += [table.rows, table.original, table.custom_stored]
        sent_to = planner.handing.streamed_to if entity == "deal" else planner.handing.sent_to[entity]
        changed = table.dirty | table.custom_dirty
        keep = changed | set(range(sent_to, table.next_id))
        table.rows = {rid: table.rows[rid] for rid in keep}
        table.original = {rid: table.original[rid] for rid in changed}
        # (the custom values of new deals went with them: those of records that exist are left)
        table.custom_stored = {fid: {rid: value for rid, value in stored.items() if rid in table.custom_dirty}
                               for fid, stored in table.custom_stored.items()}
    return plan, left


def _portable_error(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a PlanningFailed that carries its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return PlanningFailed(f"planning the import failed: {text}")
