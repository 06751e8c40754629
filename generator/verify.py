"""Prove generated files load: compile each one, and parse them in a real Airflow DagBag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import airflow_probe
from .model import Position, Problem, Spec

AIRFLOW_INSTALL_HINT = (
    "Apache Airflow is not installed for {python}: install it with "
    "`pip install 'dagsmith[airflow]'` (or `make install-airflow`), "
    "or point --python at an interpreter that has it"
)


def compile_problem(source: str, filename: str, where: Position) -> Problem | None:
    """A Problem when the source does not compile, else None."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        message = f"{error.msg} (line {error.lineno})"
        return Problem(where, f"renders to Python that does not compile: {message}")
    except ValueError as error:  # e.g. a null byte in the source
        return Problem(where, f"renders to Python that does not compile: {error}")
    return None


@dataclass(frozen=True)
class Parsed:
    """What Airflow made of one file."""

    path: str
    dag_ids: tuple[str, ...]
    error: str | None
    seconds: float


@dataclass(frozen=True)
class DagBagReport:
    """Every file Airflow parsed, and the Airflow version that parsed them."""

    airflow: str
    files: tuple[Parsed, ...]


class AirflowMissing(Exception):
    """The interpreter that should run Airflow cannot import it."""


def parse_in_airflow(
    folder: Path, files: list[str], python: str = sys.executable
) -> DagBagReport:
    """Parse files (relative to folder) in a DagBag, in a subprocess with a throwaway home."""
    with tempfile.TemporaryDirectory(prefix="dagsmith-airflow-") as home:
        report = Path(home) / "report.json"
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        }
        # The probe runs in the output folder: make a relative interpreter path absolute.
        executable = os.path.abspath(python) if os.sep in python else python
        command = [executable, airflow_probe.__file__, str(report), *files]
        result = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not report.exists():
            if "No module named 'airflow'" in result.stderr:
                raise AirflowMissing(AIRFLOW_INSTALL_HINT.format(python=python))
            raise RuntimeError(f"the Airflow probe failed:\n{result.stderr[-4000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    return DagBagReport(
        data["airflow"],
        tuple(
            Parsed(f["path"], tuple(f["dag_ids"]), f["error"], f["seconds"])
            for f in data["files"]
        ),
    )


def check_parsed(specs: list[Spec], out: str, report: DagBagReport) -> list[Problem]:
    """Problems: import errors, and files that do not define exactly their spec's DAG."""
    expected = {spec.output: spec.dag_id for spec in specs}
    problems = []
    for parsed in report.files:
        where = Position(f"{out}/{parsed.path}")
        dag_id = expected.get(parsed.path)
        if parsed.error:
            problems.append(
                Problem(where, f"Airflow import error: {parsed.error.strip()}")
            )
        elif len(parsed.dag_ids) != 1:
            found = ", ".join(parsed.dag_ids) or "none"
            problems.append(
                Problem(
                    where, f"defines {len(parsed.dag_ids)} DAGs ({found}); expected 1"
                )
            )
        elif dag_id is not None and parsed.dag_ids[0] != dag_id:
            problems.append(
                Problem(
                    where,
                    f"defines DAG {parsed.dag_ids[0]!r}; its spec says {dag_id!r}",
                )
            )
    return problems
