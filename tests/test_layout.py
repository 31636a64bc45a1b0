"""How the code is laid out: services call downward only, so a module can be read (and changed)
without the ones that use it."""

from __future__ import annotations

import ast
from pathlib import Path

import crmtui

PACKAGE = Path(crmtui.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Each crmtui module and the crmtui modules it imports, at its top or inside a function."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("crmtui", *path.relative_to(PACKAGE).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    target = next((m for m in (f"{node.module}.{alias.name}", node.module) if m in modules), None)
                    if target and target != name:
                        graph[name].add(target)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules and a.name != name)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others."""
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reached = {name: reach(name) for name in graph}
    groups = {frozenset({name} | {m for m in reached[name] if name in reached[m]}) for name in graph}
    return sorted(sorted(g) for g in groups if len(g) > 1)


def test_no_module_imports_one_that_imports_it() -> None:
    assert _circles(_imports()) == []


def test_the_commands_share_a_module_that_imports_no_command() -> None:
    graph = _imports()
    assert {m for m in graph["crmtui.cli.common"] if m.startswith("crmtui.cli")} == set()
    groups = {m for m in graph if m.startswith("crmtui.cli.") and m not in ("crmtui.cli.common", "crmtui.cli.main",
                                                                              "crmtui.cli.__main__")}
    assert groups == {f"crmtui.cli.{g}" for g in ("records", "followups", "data", "setup", "fields", "settings", "reports",
                                                  "safety", "trash", "playbooks", "hooks", "products", "lines",
                                                  "quotes")}
    for group in groups:  # a command group uses the shared module, never another group
        assert {m for m in graph[group] if m.startswith("crmtui.cli")} <= {"crmtui.cli.common"}, group


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
