"""Shell completion: the shell runs `crmtui` with no command and the words typed in environment
variables; what comes back must cover every command and each command's options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.commands import ok


def _complete(tmp_path: Path, **env: str) -> list[str]:
    script = "import sys; from crmtui.cli import main; sys.argv = ['crmtui']; main()"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **env},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("crmtui dea", "1", {"deal", "deals"}),
    ("crmtui deals list --li", "3", {"--limit"}),
    ("crmtui --no-pager deals list --js", "4", {"--json"}),
    ("crmtui pipelines ", "2", {"list"}),
    ("crmtui --ins", "1", {"--install-completion"}),
])
def test_bash_completes_commands_and_their_options(tmp_path: Path, words: str, cword: str, expected: set[str]) -> None:
    got = _complete(tmp_path, _CRMTUI_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=cword)
    assert expected <= set(got), got


def test_zsh_and_fish_complete_an_option(tmp_path: Path) -> None:
    zsh = _complete(tmp_path, _CRMTUI_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="crmtui deals list --li")
    assert any('"--limit"' in word for word in zsh), zsh
    fish = _complete(tmp_path, _CRMTUI_COMPLETE="complete_fish", _TYPER_COMPLETE_FISH_ACTION="get-args",
                     _TYPER_COMPLETE_ARGS="crmtui deals list --li")
    assert "--limit" in fish, fish


def test_the_root_help_lists_the_completion_options(tmp_path: Path) -> None:
    out = ok(tmp_path / "crm.db", "--help").output
    assert "--install-completion" in out
    assert "--show-completion" in out


def test_show_completion_prints_the_script_for_the_shell(tmp_path: Path) -> None:
    script = "import sys; from crmtui.cli import main; sys.argv = ['crmtui', '--show-completion', 'bash']; main()"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                              # the shell named, not the one found above this process (a test runner's)
                              "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert out.returncode == 0, out.stderr
    assert "_CRMTUI_COMPLETE=complete_bash" in out.stdout
    assert "complete " in out.stdout and "crmtui" in out.stdout
