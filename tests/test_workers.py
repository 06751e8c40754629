"""workers.py: the pool gives the bytes one process gives, in spec order, and
reports what its workers found."""

from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import Project
from dagsmith import pipeline, workers
from dagsmith.config import load_settings
from dagsmith.load import load_outputs


def build(**kwargs: object) -> pipeline.Build:
    settings = load_settings()
    return pipeline.build(settings, existing=load_outputs(settings.out), **kwargs)  # type: ignore[arg-type]


def test_workers_give_the_same_bytes_as_one_process(
    empty_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_project.write(
        "templates/t.py.j2", "VALUES = {{ master_dict }}\nID = {{ dag_id }}\n"
    )
    for i in range(40):
        empty_project.write(
            f"specs/s{i:02d}.yaml",
            f"dag_id: d{i:02d}\ntemplate: t\nnamespace: n{i % 3}\n"
            f"master_dict: {{values: {list(range(i))}, name: 'n{i}'}}\n",
        )
    monkeypatch.setattr(workers, "PARALLEL_MIN", 10**9)
    serial = build(incremental=False)
    # The pool must really run, one CPU or many: two workers, each of which
    # leaves its pid behind when it starts.
    started = empty_project.root / "started"
    started.mkdir()
    start_worker = workers._start_worker

    def recorded_start(*args: Any) -> None:
        (started / str(os.getpid())).touch()
        start_worker(*args)

    monkeypatch.setattr(workers, "_start_worker", recorded_start)
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(workers, "PARALLEL_MIN", 2)
    parallel = build(incremental=False)
    assert serial.outputs == parallel.outputs
    assert [t.dag_id for t in parallel.targets] == [f"d{i:02d}" for i in range(40)]
    pids = {int(p.name) for p in started.iterdir()}
    assert len(pids) == 2
    assert os.getpid() not in pids


def test_problems_found_in_workers_are_reported(
    empty_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_project.write("templates/t.py.j2", "X = {{ master_dict.missing }}\n")
    for i in range(6):
        empty_project.write(
            f"specs/s{i}.yaml",
            f"dag_id: d{i}\ntemplate: t\nnamespace: n\nmaster_dict: {{}}\n",
        )
    monkeypatch.setattr(workers, "PARALLEL_MIN", 2)
    result = empty_project.run("generate")
    assert result.exit_code == 2
    assert result.stderr.count("has no attribute 'missing'") == 6
