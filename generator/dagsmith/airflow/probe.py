"""Runs inside a subprocess with Airflow installed: parse DAG files, report as JSON.

`python -c "$(cat probe.py)" REPORT FILE...` (so dagbag.py runs it) writes
to REPORT, for each file, the DAG ids it defines, its import error, and how long it took to parse;
with DAGSMITH_PROBE_SERIALIZE=1, each DAG's serialized form and hash too, as
Airflow stores them; with DAGSMITH_PROBE_APART=1, each top folder in a DagBag
of its own. Kept apart so dagsmith itself never imports Airflow.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import Any


def _dagbag() -> Any:  # noqa: ANN401  Airflow's class: not imported to type it
    # Imported by name: dagsmith's own type checks must not depend on Airflow.
    try:  # Airflow 3
        module = importlib.import_module("airflow.dag_processing.dagbag")
        return module.DagBag(
            dag_folder="/nonexistent", collect_dags=False, safe_mode=False
        )
    except ImportError:  # Airflow 2.10+
        module = importlib.import_module("airflow.models.dagbag")
        return module.DagBag(
            dag_folder="/nonexistent",
            include_examples=False,
            collect_dags=False,
            safe_mode=False,
        )


def graph(dag: Any) -> dict[str, Any]:  # noqa: ANN401  an Airflow DAG, untyped here
    """A DAG's tasks (id, operator) and edges (upstream, downstream), sorted."""
    tasks = sorted((t.task_id, type(t).__name__) for t in dag.task_dict.values())
    edges = sorted(
        (t.task_id, down)
        for t in dag.task_dict.values()
        for down in t.downstream_task_ids
    )
    return {"tasks": tasks, "edges": edges}


def serialized(dag: Any) -> dict[str, Any]:  # noqa: ANN401  an Airflow DAG
    """The DAG's serialized form and hash: what Airflow stores as a DAG version."""
    objects = importlib.import_module("airflow.serialization.serialized_objects")
    model = importlib.import_module("airflow.models.serialized_dag")
    if hasattr(objects, "LazyDeserializedDAG"):  # Airflow 3
        lazy = objects.LazyDeserializedDAG.from_dag(dag)
        return {"hash": lazy.hash, "data": lazy.data}
    # Airflow 2: the model computes the hash when it is made (no database needed).
    data = objects.SerializedDAG.to_dict(dag)
    return {"hash": model.SerializedDagModel(dag).dag_hash, "data": data}


def probe(paths: list[str], apart: bool = False) -> dict[str, Any]:
    """Parse each file in one DagBag (with `apart`, one per top folder: each
    environment's tree is its own Airflow); its DAG ids, import error and
    parse time."""
    airflow = importlib.import_module("airflow")
    bags: dict[str, Any] = {}
    # What every DAG file imports is loaded once here, so the first file's time
    # is its own code, not Airflow's.
    for shared in ("airflow.sdk", "airflow.decorators", "airflow.models.param"):
        try:
            importlib.import_module(shared)
        except ImportError:
            continue
    files = []
    for path in paths:
        bag = bags.setdefault(path.split("/", 1)[0] if apart else "", _dagbag())
        errors_before = set(bag.import_errors)
        started = time.perf_counter()
        dags = bag.process_file(path, only_if_updated=False, safe_mode=False)
        seconds = time.perf_counter() - started
        new_errors = [
            bag.import_errors[k] for k in sorted(set(bag.import_errors) - errors_before)
        ]
        files.append(
            {
                "path": path,
                "dag_ids": sorted(dag.dag_id for dag in dags),
                "error": "\n".join(new_errors) or None,
                "seconds": seconds,
                "graphs": {dag.dag_id: graph(dag) for dag in dags},
                "serialized": (
                    {dag.dag_id: serialized(dag) for dag in dags}
                    if os.environ.get("DAGSMITH_PROBE_SERIALIZE")
                    else {}
                ),
            }
        )
    return {"airflow": airflow.__version__, "files": files}


if __name__ == "__main__":
    report, *targets = sys.argv[1:]
    result = probe(targets, apart=bool(os.environ.get("DAGSMITH_PROBE_APART")))
    with open(report, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
