"""A DAG's task graph as text for reviewers: Mermaid, Graphviz DOT, and graph diffs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .verify import TaskGraph


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
