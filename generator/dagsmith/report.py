"""What a plan means to people: a unified diff, counts, and a pull-request summary.

The summary is handed the task graphs before and after (read by
`airflow/dagbag.py`); it starts nothing itself.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .header import spec_of
from .model import Change, Plan, environment_of


@dataclass(frozen=True)
class TaskGraph:
    """A DAG's tasks (id, operator class) and edges (upstream, downstream), as Airflow sees them."""

    tasks: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Graphs:
    """Task graphs by output path: of the files as they are, and as they would be."""

    before: Mapping[str, TaskGraph]
    after: Mapping[str, TaskGraph]


def unified_diff(plan: Plan) -> str:
    """The plan's pending changes to DAG files as one unified diff, paths relative
    to the project root. The record is left out: it is digests, derived."""
    chunks: list[str] = []
    for change in (c for c in plan.pending if c.is_dag):
        old = (change.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
        new = (change.new or b"").decode("utf-8", "replace").splitlines(keepends=True)
        path = f"{plan.out}/{change.path}"
        chunks.extend(
            difflib.unified_diff(
                old,
                new,
                fromfile="/dev/null" if change.old is None else f"a/{path}",
                tofile="/dev/null" if change.new is None else f"b/{path}",
            )
        )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for line in chunks
    )


@dataclass(frozen=True)
class GraphDiff:
    """What a change does to a DAG's tasks and their dependencies."""

    tasks_added: tuple[str, ...]
    tasks_removed: tuple[str, ...]
    edges_added: tuple[tuple[str, str], ...]
    edges_removed: tuple[tuple[str, str], ...]

    def __bool__(self) -> bool:
        return bool(
            self.tasks_added
            or self.tasks_removed
            or self.edges_added
            or self.edges_removed
        )


def diff(old: TaskGraph | None, new: TaskGraph | None) -> GraphDiff:
    """Tasks and edges added and removed between two versions of a DAG."""
    old_tasks = {t for t, _ in old.tasks} if old else set()
    new_tasks = {t for t, _ in new.tasks} if new else set()
    old_edges = set(old.edges) if old else set()
    new_edges = set(new.edges) if new else set()
    return GraphDiff(
        tuple(sorted(new_tasks - old_tasks)),
        tuple(sorted(old_tasks - new_tasks)),
        tuple(sorted(new_edges - old_edges)),
        tuple(sorted(old_edges - new_edges)),
    )


def _task_count(graph: TaskGraph | None) -> str:
    return str(len(graph.tasks)) if graph else "none"


def markdown_summary(
    plan: Plan, graphs: Graphs | None, environments: tuple[str, ...] = ()
) -> str:
    """A pull-request comment: specs added, changed and removed, and each DAG's task changes.

    `graphs`: the task graphs of the pending files before and after, or None
    when Airflow was not there to build them. With `environments`, one table
    per environment the change touches, and a line that says which.
    """
    pending = tuple(c for c in plan.pending if c.is_dag)
    counts = {
        k: sum(c.kind == k for c in pending) for k in ("create", "update", "remove")
    }
    lines = [
        f"### dagsmith: {counts['create']} DAGs added, {counts['update']} changed, "
        f"{counts['remove']} removed",
        "",
        *(f"- {note}" for note in plan.notes),
        *([""] if plan.notes else []),
    ]
    if not pending:
        return "\n".join(
            [*lines, "Generated DAGs are up to date with their specs.", ""]
        )
    if not environments:
        sections: list[tuple[str, Sequence[Change]]] = [("", pending)]
        lines += _table(pending, graphs)
    else:
        groups = {
            name: [c for c in pending if environment_of(c.path, environments) == name]
            for name in environments
        }
        sections = [(name, changes) for name, changes in groups.items() if changes]
        only = "only " if len(sections) < len(environments) else ""
        lines += [f"Changes {only}{' and '.join(name for name, _ in sections)}.", ""]
        for name, changes in sections:
            lines += [f"#### {name}", "", *_table(changes, graphs), ""]
    if graphs is None:
        lines += [
            "",
            "Task changes need Apache Airflow: `pip install 'dagsmith[airflow]'`.",
        ]
    details = [
        line
        for _, changes in sections
        for change in changes
        for line in _task_changes(change, graphs)
    ]
    return "\n".join([*lines, "", *details]).rstrip("\n") + "\n"


def _table(pending: Iterable[Change], graphs: Graphs | None) -> list[str]:
    """The table of some pending DAG files: spec, change and task counts."""
    words = {"create": "added", "update": "changed", "remove": "removed"}
    lines = ["| DAG file | spec | change | tasks |", "| --- | --- | --- | --- |"]
    for change in pending:
        spec = spec_of(change.new or change.old)
        if graphs is None:
            tasks = "(needs Airflow)"
        else:
            before, after = graphs.before.get(change.path), graphs.after.get(
                change.path
            )
            tasks = f"{_task_count(before)} → {_task_count(after)}"
        lines.append(f"| `{change.path}` | `{spec}` | {words[change.kind]} | {tasks} |")
    return lines


def _task_changes(change: Change, graphs: Graphs | None) -> list[str]:
    """A DAG file's task and dependency changes, as a list; nothing when none
    (or without Airflow's graphs)."""
    if graphs is None:
        return []
    delta = diff(graphs.before.get(change.path), graphs.after.get(change.path))
    if not delta:
        return []
    return [
        f"**`{change.path}`**",
        "",
        *(f"- task added: `{t}`" for t in delta.tasks_added),
        *(f"- task removed: `{t}`" for t in delta.tasks_removed),
        *(f"- dependency added: `{u}` → `{d}`" for u, d in delta.edges_added),
        *(f"- dependency removed: `{u}` → `{d}`" for u, d in delta.edges_removed),
        "",
    ]


def counts(plan: Plan, verbs: tuple[str, str, str]) -> str:
    """`2 created, 1 updated, 0 removed, 5 unchanged` DAG files, in the verbs
    given, and `; record updated` when the folder's record is all that changes."""
    dags = [c for c in plan.changes if c.is_dag]
    kinds = ("create", "update", "remove", "unchanged")
    created, updated, removed, unchanged = (
        sum(c.kind == k for c in dags) for k in kinds
    )
    text = (
        f"{created} {verbs[0]}, {updated} {verbs[1]}, {removed} {verbs[2]}, "
        f"{unchanged} unchanged"
    )
    # The record changes with every output; said alone, it explains an exit 1.
    verb = dict(zip(kinds, verbs, strict=False))
    if not any(c.is_dag for c in plan.pending):
        text += "".join(f"; record {verb[c.kind]}" for c in plan.pending)
    return text
