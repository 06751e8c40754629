"""What a person sees: a progress line on long runs in a terminal, quiet, NO_COLOR."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Project
from dagsmith.cli.common import ProgressLine


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_waits_a_second_then_shows_count_and_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    line = ProgressLine(enabled=True, clock=clock)
    clock.now += 0.5
    line(10, 1000)
    assert capsys.readouterr().err == ""
    clock.now += 1.5
    line(400, 1000)
    assert capsys.readouterr().err == "\rdagsmith: 400/1000 specs (200/s)"
    clock.now += 0.01
    line(401, 1000)  # throttled: at most ten updates a second
    assert capsys.readouterr().err == ""
    line.close()
    assert capsys.readouterr().err == "\r\033[K"


def test_progress_is_silent_when_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    line = ProgressLine(enabled=False, clock=clock)
    clock.now += 10
    line(5, 10)
    line.close()
    assert capsys.readouterr().err == ""


def test_no_progress_line_and_a_summary_when_not_a_terminal(project: Project) -> None:
    result = project.run("generate")
    assert "\r" not in result.stderr
    assert result.stderr.startswith(
        "dagsmith: 8 created, 0 updated, 0 removed, 0 unchanged in "
    )


def test_quiet_prints_nothing_on_success_and_problems_on_failure(
    project: Project,
) -> None:
    assert project.run("generate", "--quiet").stderr == ""
    project.write("specs/etl/sales.yaml", "dag_id: [\n")
    failed = project.run("generate", "-q")
    assert failed.exit_code == 2
    assert "specs/etl/sales.yaml:2:1: invalid YAML" in failed.stderr


def test_no_color_keeps_messages_plain(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write("specs/etl/sales.yaml", "dag_id: [\n")
    monkeypatch.setenv("NO_COLOR", "1")
    result = project.run("generate")
    assert "\033[" not in result.stderr
    monkeypatch.delenv("NO_COLOR")
    colored = project.run("generate", color=True)
    assert "\033[1m" in colored.stderr


def read_terminal(command: list[str], cwd: Path) -> str:
    """Run a command with a pseudo-terminal as stderr; everything it wrote there."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, cwd=cwd, stderr=follower, stdout=subprocess.DEVNULL
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    process.wait(60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_a_long_run_in_a_terminal_shows_progress(empty_project: Project) -> None:
    empty_project.write(
        "templates/t.py.j2", "X = {{ master_dict }}\nY = {{ dag_id }}\n"
    )
    values = ", ".join(f"key_{k}: [{k}, {k + 1}, text {k}]" for k in range(60))
    for i in range(80):  # a few seconds of black: past the 1 s delay
        empty_project.write(
            f"specs/s{i:03d}.yaml",
            f"dag_id: d{i:03d}\ntemplate: t\nnamespace: n\nmaster_dict: {{{values}}}\n",
        )
    dagsmith = str(Path(sys.executable).parent / "dagsmith")
    screen = read_terminal([dagsmith, "generate"], empty_project.root)
    assert "\rdagsmith: " in screen
    assert "/80 specs (" in screen
    assert "\r\033[Kdagsmith: 80 created, 0 updated, 0 removed, 0 unchanged" in screen
