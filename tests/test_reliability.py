"""Nothing half-written: kills, concurrent runs, file-system faults, hostile paths."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Project
from dagsmith import write
from dagsmith.write import TEMP_SUFFIX

DAGSMITH = str(Path(sys.executable).parent / "dagsmith")
TEMPLATE = "VALUES = {{ master_dict }}\nID = {{ dag_id }}\nVERSION = {{ %s }}\n"


def many_specs(project: Project, count: int, version: int = 1, keys: int = 30) -> None:
    project.write("templates/t.py.j2", TEMPLATE % version)
    values = ", ".join(f"k{k}: [{k}, 'v{k}']" for k in range(keys))
    for i in range(count):
        project.write(
            f"specs/s{i:03d}.yaml",
            f"dag_id: d{i:03d}\ntemplate: t\nnamespace: n{i % 4}\nmaster_dict: {{{values}}}\n",
        )


def py_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.py")
    }


def run(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DAGSMITH, *args], cwd=project.root, capture_output=True, text=True, check=False
    )


def test_sigkill_at_any_instant_leaves_every_file_old_or_new(
    empty_project: Project,
) -> None:
    project, out = empty_project, empty_project.root / "generated_dags"
    many_specs(project, 200, version=1, keys=4)  # a few hundred small specs
    assert run(project, "generate").returncode == 0
    old = py_files(out)
    saved = project.root.parent / "saved_out"
    shutil.copytree(out, saved)
    many_specs(project, 200, version=2, keys=4)  # every output changes
    started = time.monotonic()
    assert run(project, "generate").returncode == 0
    duration = time.monotonic() - started
    new = py_files(out)
    assert set(new) == set(old)
    assert all(new[p] != old[p] for p in new)

    rng = random.Random(20261125)
    # Half the kills at any instant of a run; half within 60 ms of the first
    # temp file appearing, to land in the stage and commit steps.
    instants: list[float | None] = [rng.uniform(0, duration) for _ in range(10)]
    instants += [None] * 10
    writing = 0
    for instant in instants:
        shutil.rmtree(out)
        shutil.copytree(saved, out)
        shutil.rmtree(project.root / ".dagsmith", ignore_errors=True)
        process = subprocess.Popen(
            [DAGSMITH, "generate", "-q"],
            cwd=project.root,
            start_new_session=True,  # the pool's workers die with it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if instant is None:
            deadline = time.monotonic() + 60
            while not any(out.rglob(f"*{TEMP_SUFFIX}")) and process.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.06))
        else:
            time.sleep(instant)
        with contextlib.suppress(ProcessLookupError):  # it may have finished
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        after = py_files(out)
        assert set(after) == set(old), instant  # no stray or missing .py file
        for path, content in after.items():
            assert content in (old[path], new[path]), (instant, path)
        states = {after[p] == new[p] for p in after}
        # Landed while writing: temp files left, or some outputs already renamed.
        writing += len(states) == 2 or any(out.rglob(f"*{TEMP_SUFFIX}"))
    # A rerun converges, and clears what the killed runs left.
    assert run(project, "generate").returncode == 0
    assert py_files(out) == new
    assert not list(out.rglob(f"*{TEMP_SUFFIX}"))
    assert run(project, "check").returncode == 0
    assert writing >= 5  # the test did reach the writes it is about
    print(
        f"\n{len(instants)} kill instants, {writing} while writing, 0 files lost or torn"
    )


def _alive(pid: int) -> bool:
    """Whether a process runs (an exited one waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_the_workers_of_a_killed_run_exit_and_free_the_lock(
    empty_project: Project,
) -> None:
    many_specs(empty_project, 200, keys=4)  # enough renders for worker processes
    process = subprocess.Popen(
        [DAGSMITH, "generate", "-q"],
        cwd=empty_project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers:
        assert time.monotonic() < deadline
        assert process.poll() is None  # still running: the kill lands mid-run
        workers = [int(pid) for pid in children.read_text().split()]
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)  # the run alone, not its process group
    process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "orphaned workers still run"
        time.sleep(0.05)
    rerun = subprocess.run(
        [DAGSMITH, "generate", "-q"], cwd=empty_project.root, timeout=120, check=False
    )
    assert rerun.returncode == 0  # the lock is free


def test_three_concurrent_runs_serialize_and_agree(empty_project: Project) -> None:
    many_specs(empty_project, 60)
    runs = [
        subprocess.Popen(
            [DAGSMITH, "generate"],
            cwd=empty_project.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in runs]
    assert all(code == 0 for code, _ in results), results
    assert not any("Traceback" in err for _, err in results)
    assert run(empty_project, "check").returncode == 0
    assert len(py_files(empty_project.root / "generated_dags")) == 60


def fill_up_at(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """Make the nth fsync of write.py find the disk full."""
    real_fsync, calls = os.fsync, []

    def fills_up(fd: int) -> None:
        calls.append(fd)
        if len(calls) == nth:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(write.os, "fsync", fills_up)


def test_a_full_disk_while_staging_changes_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.ok("generate")
    template = project.root / "templates/tenant_report.py.j2"
    template.write_text(template.read_text().replace('"report"', '"weekly"'))
    spec = project.root / "specs/etl/sales.yaml"
    spec.write_text(spec.read_text().replace("@daily", "@hourly"))
    before = project.outputs()
    real_fsync = os.fsync
    fill_up_at(monkeypatch, 2)  # the second staged file finds the disk full
    result = project.run("generate")
    assert result.exit_code == 1
    assert "cannot write: No space left on device" in result.stderr
    assert project.outputs() == before  # not one of the three updates landed
    monkeypatch.setattr(write.os, "fsync", real_fsync)
    assert "3 updated" in project.run("generate").stderr


def test_a_full_disk_while_staging_many_files_at_once_changes_nothing(
    empty_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 40 files are staged by several threads at once (write.THREADED_FROM).
    assert write.THREADED_FROM < 40
    empty_project.write("templates/t.py.j2", TEMPLATE % "1")
    for n in range(40):
        empty_project.write(
            f"specs/s{n}.yaml",
            f"dag_id: d{n}\ntemplate: t\nnamespace: n\nmaster_dict: {{n: {n}}}\n",
        )
    assert empty_project.run("generate").exit_code == 0
    empty_project.write("templates/t.py.j2", TEMPLATE % "2")
    before = empty_project.outputs()
    real_fsync = os.fsync
    fill_up_at(monkeypatch, 20)
    result = empty_project.run("generate")
    assert result.exit_code == 1
    assert "cannot write: No space left on device" in result.stderr
    assert empty_project.outputs() == before
    out = empty_project.root / "generated_dags"
    assert [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)] == []
    monkeypatch.setattr(write.os, "fsync", real_fsync)
    assert "40 updated" in empty_project.run("generate").stderr


def test_a_file_where_the_output_folder_should_be(project: Project) -> None:
    project.write("generated_dags", "not a folder\n")
    result = project.run("generate")
    assert result.exit_code == 1
    assert "generated_dags" in result.stderr
    assert "Traceback" not in result.output
    assert (project.root / "generated_dags").read_text() == "not a folder\n"


def test_a_file_where_a_namespace_folder_should_be(project: Project) -> None:
    project.ok("generate")
    shutil.rmtree(project.root / "generated_dags/etl")
    project.write("generated_dags/etl", "in the way\n")
    result = project.run("generate")
    assert result.exit_code == 1
    assert (
        "etl/etl_inventory.py:1:1: cannot write: a file stands where its folder should be"
        in (result.stderr)
    )
    assert (project.root / "generated_dags/etl").read_text() == "in the way\n"


def test_a_namespace_folder_linked_out_of_the_output_is_refused(
    project: Project,
) -> None:
    outside = project.root.parent / "outside"
    outside.mkdir()
    (project.root / "generated_dags").mkdir()
    os.symlink(outside, project.root / "generated_dags/etl")
    result = project.run("generate")
    assert result.exit_code == 1
    assert (
        "etl/etl_inventory.py:1:1: its folder is a symlink out of the output folder"
        in (result.stderr)
    )
    assert list(outside.iterdir()) == []


def test_a_template_linked_from_outside_the_project_is_refused(
    project: Project,
) -> None:
    outside = project.root.parent / "evil.py.j2"
    outside.write_text("import os\n")
    os.symlink(outside, project.root / "templates/evil.py.j2")
    result = project.run("generate")
    assert result.exit_code == 2
    assert "templates/evil.py.j2:1:1: is a symlink to a file outside the project" in (
        result.stderr
    )


@pytest.mark.parametrize(
    "value",
    [
        "x" * 200_000,
        '"""\nimport os\nos.system("id")\n"""',
        "\u2028\u2029\x85\x0b\x0c",
        "{{ dag_id }}{% raw %}{# #}",
        "\\N{BULLET} \\x00 \\",
    ],
)
def test_hostile_values_stay_literals(project: Project, value: str) -> None:
    import ast

    import yaml

    spec = yaml.safe_load((project.root / "specs/etl/sales.yaml").read_text())
    spec["master_dict"]["source"] = "sales_db"
    spec["master_dict"]["tables"][0]["columns"] = [value]
    project.write("specs/etl/sales.yaml", yaml.safe_dump(spec))
    assert project.run("generate").exit_code == 0
    module = ast.parse((project.root / "generated_dags/etl/etl_sales.py").read_text())
    found: list[Any] = [
        ast.literal_eval(node)
        for node in ast.walk(module)
        if isinstance(node, ast.List)
        and all(isinstance(e, ast.Constant) for e in node.elts)
    ]
    assert [value] in found


def test_a_yaml_bomb_is_refused_quickly(project: Project) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    project.write("specs/bomb.yaml", "\n".join(lines) + "\n")
    started = time.monotonic()
    result = project.run("validate")
    assert time.monotonic() - started < 10  # a billion values would take hours
    assert result.exit_code == 2
    assert "document too large" in result.stderr


def test_a_run_that_fails_after_rendering_leaves_no_trace(
    empty_project: Project,
) -> None:
    # Outputs are staged as they are made; a spec that fails to render after
    # them must leave neither their temp files nor their new folders behind.
    empty_project.write("templates/t.py.j2", TEMPLATE % "1")
    empty_project.write("templates/broken.py.j2", "X = {{ master_dict.missing }}\n")
    empty_project.write(
        "specs/first.yaml",
        "dag_id: first\ntemplate: t\nnamespace: old\nmaster_dict: {}\n",
    )
    empty_project.ok("generate")
    out = empty_project.root / "generated_dags"
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for n in range(30):
        empty_project.write(
            f"specs/new/s{n}.yaml",
            f"dag_id: d{n}\ntemplate: t\nnamespace: new{n % 3}\nmaster_dict: {{n: {n}}}\n",
        )
    empty_project.write(
        "specs/zz.yaml",
        "dag_id: zz\ntemplate: broken\nnamespace: new\nmaster_dict: {}\n",
    )
    result = empty_project.run("generate")
    assert result.exit_code == 2
    assert "has no attribute 'missing'" in result.stderr
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
