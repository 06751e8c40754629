"""A DAG's task graph for reviewers: Mermaid, or Graphviz DOT."""

from __future__ import annotations

import json

from ..report import TaskGraph


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
