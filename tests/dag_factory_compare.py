"""Builds DAGs two ways in one Airflow, and prints what each side built as JSON.

    python dag_factory_compare.py dag-factory CONFIGS_FOLDER
    python dag_factory_compare.py static DAGS_FOLDER [SYS_PATH_FOLDER]

`dag-factory` loads the configs with dag-factory's own `load_yaml_dags`;
`static` parses plain DAG files in a DagBag, as Airflow's processor does.
Each DAG is printed as Airflow serializes it (`DagSerialization.to_dict`,
without where it was loaded from) and, for what serialization keeps only as
a name or a flag, as live objects: callables and callbacks by module and
qualified name, with a `functools.partial`'s arguments and a Notifier's state.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
from typing import Any

# dag-factory sends usage data unless told not to; nothing leaves this machine.
os.environ.update(
    {
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
)
# Where a DAG was loaded from, not what it is.
VOLATILE = ("fileloc", "relative_fileloc", "_processor_dags_folder")
# dag-factory appends the merged YAML to doc_md (with absolute paths); a
# static file has no YAML to show.
YML_SECTION = re.compile(r"\n?## YML DAG\n```yaml\n.*\n```\Z", re.DOTALL)
CALLBACKS = (
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
)


def describe(value: Any) -> Any:
    """A live object as comparable data: what it is, not where it sits in memory."""
    if isinstance(value, functools.partial):
        return {
            "partial": describe(value.func),
            "args": [describe(a) for a in value.args],
            "kwargs": {k: describe(v) for k, v in sorted(value.keywords.items())},
        }
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in sorted(value.items(), key=str)}
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"
    if hasattr(value, "__dict__") and not isinstance(value, (str, int, float)):
        state = {k: describe(v) for k, v in sorted(vars(value).items())}
        return {"object": describe(type(value)), "state": state}
    return repr(value)


def live(dag: Any) -> dict[str, Any]:
    """What serialization drops: callables, callbacks, macros, by task."""
    found: dict[str, Any] = {
        "dag": {
            name: describe(getattr(dag, name, None))
            for name in ("on_success_callback", "on_failure_callback")
        },
        "default_args": describe(dag.default_args),
        "user_defined_macros": describe(dag.user_defined_macros),
    }
    for task_id, task in sorted(dag.task_dict.items()):
        partial = getattr(task, "partial_kwargs", {}) or {}
        found[task_id] = {
            name: describe(getattr(task, name, None) or partial.get(name))
            for name in (*CALLBACKS, "python_callable", "execution_date_fn")
        }
    return found


def serialized(dag: Any) -> dict[str, Any]:
    from airflow.serialization.serialized_objects import DagSerialization

    data = DagSerialization.to_dict(dag)
    for key in VOLATILE:
        data["dag"].pop(key, None)
    doc = data["dag"].get("doc_md")
    if isinstance(doc, str):
        doc = YML_SECTION.sub("", doc)
        if doc:
            data["dag"]["doc_md"] = doc
        else:
            del data["dag"]["doc_md"]
    return data


def dag_factory(folder: str) -> tuple[dict[str, Any], list[str]]:
    from dagfactory import load_yaml_dags

    sys.path.insert(0, folder)
    found: dict[str, Any] = {}
    load_yaml_dags(found, dags_folder=folder, defaults_config_path=folder)
    from airflow.sdk import DAG

    return {d.dag_id: d for d in found.values() if isinstance(d, DAG)}, []


def static(folder: str, path: str | None) -> tuple[dict[str, Any], list[str]]:
    from airflow.dag_processing.dagbag import DagBag

    if path:
        sys.path.insert(0, path)
    bag = DagBag(dag_folder=folder, safe_mode=False)
    errors = [
        f"{k}: {v.strip().splitlines()[-1]}" for k, v in bag.import_errors.items()
    ]
    return dict(bag.dags), errors


def main() -> None:
    logging.disable(logging.WARNING)
    kind, folder, *rest = sys.argv[1:]
    if kind == "dag-factory":
        dags, errors = dag_factory(folder)
    else:
        dags, errors = static(folder, rest[0] if rest else None)
    result = {
        dag_id: {"serialized": serialized(dag), "live": live(dag)}
        for dag_id, dag in sorted(dags.items())
    }
    print(json.dumps({"dags": result, "errors": errors}, sort_keys=True, default=repr))


if __name__ == "__main__":
    main()
