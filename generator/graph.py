"""A DAG's task graph for reviewers: Mermaid, Graphviz DOT, graph diffs, PR summaries."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .header import spec_of
from .model import Plan
from .verify import AirflowMissing, TaskGraph, graphs_of


def _ids(graph: TaskGraph) -> dict[str, str]:
    # Task ids may hold dots and dashes; Mermaid node ids may not: number them.
    return {task: f"t{index}" for index, (task, _) in enumerate(graph.tasks)}


def to_mermaid(dag_id: str, graph: TaskGraph) -> str:
    """The graph as a Mermaid flowchart, ready for a GitHub or GitLab Markdown block."""
    ids = _ids(graph)
    lines = ["flowchart LR", f"    %% {dag_id}"]
    lines += [f'    {ids[task]}["{task}"]' for task, _ in graph.tasks]
    lines += [f"    {ids[up]} --> {ids[down]}" for up, down in graph.edges]
    return "\n".join(lines) + "\n"


def to_dot(dag_id: str, graph: TaskGraph) -> str:
    """The graph in Graphviz DOT; `dot -Tsvg` draws it."""
    lines = [
        f"digraph {json.dumps(dag_id)} {{",
        "    rankdir=LR;",
        "    node [shape=box];",
    ]
    lines += [
        f"    {json.dumps(task)} [tooltip={json.dumps(operator)}];"
        for task, operator in graph.tasks
    ]
    lines += [
        f"    {json.dumps(up)} -> {json.dumps(down)};" for up, down in graph.edges
    ]
    return "\n".join(lines) + "\n}\n"


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


def markdown_summary(plan: Plan, python: str) -> str:
    """A pull-request comment: specs added, changed and removed, and each DAG's task changes."""
    pending = plan.pending
    counts = {k: len(plan.of_kind(k)) for k in ("create", "update", "remove")}
    lines = [
        f"### dagsmith: {counts['create']} DAGs added, {counts['update']} changed, "
        f"{counts['remove']} removed",
        "",
    ]
    if not pending:
        return "\n".join(
            [*lines, "Generated DAGs are up to date with their specs.", ""]
        )
    old: dict[str, TaskGraph] | None
    new: dict[str, TaskGraph] | None
    try:
        old = graphs_of({c.path: c.old for c in pending if c.old is not None}, python)
        new = graphs_of({c.path: c.new for c in pending if c.new is not None}, python)
    except AirflowMissing:
        old = new = None
    words = {"create": "added", "update": "changed", "remove": "removed"}
    lines += ["| DAG file | spec | change | tasks |", "| --- | --- | --- | --- |"]
    details = []
    for change in pending:
        spec = spec_of(change.new or change.old)
        if old is None or new is None:
            tasks = "(needs Airflow)"
        else:
            before, after = old.get(change.path), new.get(change.path)
            tasks = f"{_task_count(before)} → {_task_count(after)}"
            delta = diff(before, after)
            if delta:
                details += [f"**`{change.path}`**", ""]
                details += [f"- task added: `{t}`" for t in delta.tasks_added]
                details += [f"- task removed: `{t}`" for t in delta.tasks_removed]
                details += [
                    f"- dependency added: `{u}` → `{d}`" for u, d in delta.edges_added
                ]
                details += [
                    f"- dependency removed: `{u}` → `{d}`"
                    for u, d in delta.edges_removed
                ]
                details.append("")
        lines.append(f"| `{change.path}` | `{spec}` | {words[change.kind]} | {tasks} |")
    if old is None:
        lines += [
            "",
            "Task changes need Apache Airflow: `pip install 'dagsmith[airflow]'`.",
        ]
    return "\n".join([*lines, "", *details]).rstrip("\n") + "\n"
