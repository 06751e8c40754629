"""The DagBag driver that `verify`, `graph` and the pull-request summary share.

Airflow runs in a subprocess (any interpreter that has it, `--python`) with a
throwaway AIRFLOW_HOME; the probe reports each file's DAGs, import error,
parse time and task graph as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ToolMissing
from ..report import TaskGraph

PROBE = Path(__file__).with_name("probe.py")
AIRFLOW_INSTALL_HINT = (
    "Apache Airflow is not installed for {python}: install it with "
    "`pip install 'dagsmith[airflow]'` (or `make install-airflow`), "
    "or point --python at an interpreter that has it"
)


@dataclass(frozen=True)
class Parsed:
    """What Airflow made of one file."""

    path: str
    dag_ids: tuple[str, ...]
    error: str | None
    seconds: float
    graphs: Mapping[str, TaskGraph] = field(default_factory=dict)
    # dag_id -> {"hash", "data"}: Airflow's serialized form, when asked for.
    serialized: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DagBagReport:
    """Every file Airflow parsed, and the Airflow version that parsed them."""

    airflow: str
    files: tuple[Parsed, ...]


class AirflowMissing(ToolMissing):
    """The interpreter that should run Airflow cannot: missing, dying, or without it."""


def parse_in_airflow(
    folder: Path,
    files: list[str],
    python: str = sys.executable,
    *,
    hash_seed: str | None = None,
    serialize: bool = False,
    apart: bool = False,
) -> DagBagReport:
    """Parse files (relative to folder) in a DagBag, in a subprocess with a throwaway home.

    `hash_seed` fixes the subprocess's PYTHONHASHSEED; `serialize` adds each
    DAG's serialized form and hash; `apart` parses each top folder (an
    environment) in a DagBag of its own, as the same dag_id is in each.
    """
    with tempfile.TemporaryDirectory(prefix="dagsmith-airflow-") as home:
        report = Path(home) / "report.json"
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
            **({"PYTHONHASHSEED": hash_seed} if hash_seed is not None else {}),
            **({"DAGSMITH_PROBE_SERIALIZE": "1"} if serialize else {}),
            **({"DAGSMITH_PROBE_APART": "1"} if apart else {}),
        }
        # The probe runs in the output folder: make a relative interpreter path absolute.
        executable = os.path.abspath(python) if os.sep in python else python
        # Run as `-c`, not as a script, so that its folder (dagsmith's own
        # modules) is not first on the path of the Airflow it imports.
        command = [executable, "-c", PROBE.read_text("utf-8"), str(report), *files]
        try:
            result = subprocess.run(
                command,
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as error:
            raise AirflowMissing(
                f"cannot run {python}: {error.strerror}; point --python at an "
                "interpreter that has Apache Airflow"
            ) from None
        if result.returncode != 0 or not report.exists():
            if "No module named 'airflow'" in result.stderr:
                raise AirflowMissing(AIRFLOW_INSTALL_HINT.format(python=python))
            said = result.stderr.strip().splitlines()
            raise AirflowMissing(
                f"{python} could not load Airflow (exit {result.returncode}"
                f"{': ' + said[-1] if said else ''}); point --python at an "
                "interpreter that has Apache Airflow"
            )
        data = json.loads(report.read_text(encoding="utf-8"))
    return DagBagReport(
        data["airflow"],
        tuple(
            Parsed(
                f["path"],
                tuple(f["dag_ids"]),
                f["error"],
                f["seconds"],
                {
                    dag_id: TaskGraph(
                        tuple(map(tuple, g["tasks"])), tuple(map(tuple, g["edges"]))
                    )
                    for dag_id, g in f["graphs"].items()
                },
                f.get("serialized", {}),
            )
            for f in data["files"]
        ),
    )


def graphs_of(
    files: Mapping[str, bytes], python: str = sys.executable
) -> dict[str, TaskGraph]:
    """The task graph of the one DAG in each file (by relative path), parsed in Airflow.

    The files are laid out in a scratch folder, so what is shown is exactly
    these bytes, whatever the output folder holds.
    """
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="dagsmith-graph-") as scratch:
        folder = Path(scratch)
        for relative, content in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(content)
        # Apart: the same dag_id may be in two environments' files.
        report = parse_in_airflow(folder, sorted(files), python, apart=True)
    return {
        parsed.path: next(iter(parsed.graphs.values()))
        for parsed in report.files
        if len(parsed.graphs) == 1
    }
