"""workers.py: the pool gives the bytes one process gives, in spec order, and
reports what its workers found."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Project
from dagsmith import load, pipeline, workers
from dagsmith.config import load_settings
from dagsmith.load import load_outputs


def build(**kwargs: object) -> pipeline.Build:
    settings = load_settings()
    return pipeline.build(settings, existing=load_outputs(settings.out), **kwargs)  # type: ignore[arg-type]


def record_worker_starts(project: Project, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where each worker leaves its pid as it starts."""
    started = project.root / "started"
    started.mkdir()
    start_worker = workers._start_worker

    def recorded_start(*args: Any) -> None:
        (started / str(os.getpid())).touch()
        start_worker(*args)

    monkeypatch.setattr(workers, "_start_worker", recorded_start)
    return started


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
    started = record_worker_starts(empty_project, monkeypatch)
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


def test_many_spec_files_render_while_the_rest_are_read(
    empty_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_project.write("templates/t.py.j2", "VALUES = {{ master_dict }}\n")
    for i in range(40):
        empty_project.write(
            f"specs/s{i:02d}.yaml",
            f"dag_id: d{i:02d}\ntemplate: t\nnamespace: n\nmaster_dict: {{i: {i}}}\n",
        )
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(workers, "PARALLEL_MIN", 2)
    events: list[tuple[str, int]] = []
    parse_files, start = load.parse_files, workers.Pool.start

    def parsing(sources: Any, files: Any, defaults: Any) -> Any:
        files = list(files)
        events.append(("parse", len(files)))
        return parse_files(sources, files, defaults)

    def starting(self: workers.Pool, jobs: list[workers.Job]) -> Any:
        events.append(("start", len(jobs)))
        return start(self, jobs)

    monkeypatch.setattr(load, "parse_files", parsing)
    monkeypatch.setattr(workers.Pool, "start", starting)
    built = build(incremental=False)
    assert [t.dag_id for t in built.targets] == [f"d{i:02d}" for i in range(40)]
    kinds = [kind for kind, _ in events]
    # The first part is with the workers before the last one is parsed.
    assert kinds.index("start") < len(kinds) - 1 - kinds[::-1].index("parse")
    assert sum(n for kind, n in events if kind == "start") == 40
    assert sum(n for kind, n in events if kind == "parse") == 40


def test_many_documents_in_few_files_render_in_workers(
    empty_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_project.write("templates/t.py.j2", "VALUES = {{ master_dict }}\n")
    documents = [
        f"dag_id: d{i:02d}\ntemplate: t\nnamespace: n\nmaster_dict: {{i: {i}}}\n"
        for i in range(30)
    ]
    empty_project.write("specs/all.yaml", "---\n".join(documents))
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(workers, "PARALLEL_MIN", 10)
    started = record_worker_starts(empty_project, monkeypatch)
    built = build(incremental=False)
    assert built.rendered == 30
    assert len({p.name for p in started.iterdir()} - {str(os.getpid())}) == 2
