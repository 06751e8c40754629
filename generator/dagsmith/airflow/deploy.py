"""Take the output to Airflow: verify it in a real DagBag, deploy it to a dags folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .. import load, write
from ..config import Settings
from ..errors import InputError, OptionError, Position, Problem, StaleError, VerifyError
from ..header import is_owned
from ..model import RECORD, Output, Plan
from ..pipeline import check, load_and_validate, plan_folder, silent
from ..workers import Progress
from .dagbag import DagBagReport, parse_in_airflow
from .verify import check_parsed, check_stable


def verify(settings: Settings, python: str) -> DagBagReport:
    """Parse every spec's output file in a real Airflow DagBag; VerifyError on failure."""
    specs, _, problems = load_and_validate(settings)
    if problems:
        raise InputError(problems)
    out = settings.display(settings.out)
    present = [s.output for s in specs if (settings.out / s.output).is_file()]
    missing = [
        Problem(
            Position(f"{out}/{s.output}"),
            f"missing; run `dagsmith generate` ({s.path})",
        )
        for s in specs
        if s.output not in present
    ]
    apart = bool(settings.environments)
    report, again = _parse_twice(settings.out, sorted(present), python, apart)
    failed = [
        *missing,
        *check_parsed(specs, out, report),
        *check_stable(specs, out, report, again),
    ]
    if failed:
        raise VerifyError(failed)
    return report


def _parse_twice(
    folder: Path, files: list[str], python: str, apart: bool
) -> tuple[DagBagReport, DagBagReport]:
    """Two parses in separate processes, with different hash seeds and a moment
    apart, side by side: a DAG that differs between them is not stable.

    `apart`: each environment's tree in a DagBag of its own."""
    from concurrent.futures import ThreadPoolExecutor

    def parse(seed: str) -> DagBagReport:
        return parse_in_airflow(
            folder, files, python, hash_seed=seed, serialize=True, apart=apart
        )

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(parse, "1")
        time.sleep(0.2)
        second = pool.submit(parse, "2")
        return first.result(), second.result()


def deploy(
    settings: Settings,
    target: Path,
    *,
    environment: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    on_wait: Callable[[], None] = lambda: None,
    progress: Progress = silent,
) -> Plan:
    """Sync the owned output files (of one environment's tree, in a project
    that declares them) into an Airflow dags folder, atomically per file.

    Refuses (StaleError) while `check` would fail for what it ships, unless
    forced: what is deployed is what was reviewed.
    """
    tree = _tree(settings, environment)
    existing = load.load_outputs(settings.out)
    if not force:
        drift = [
            c
            for c in check(settings, progress, existing).pending
            if c.path.startswith(tree)
        ]
        if drift:
            out = settings.display(settings.out)
            raise StaleError(
                [
                    Problem(
                        Position(f"{out}/{c.path}"),
                        f"out of date (would {c.kind}); run `dagsmith generate`, "
                        "or deploy --force",
                    )
                    for c in drift
                ]
            )
    wanted = tuple(
        Output(path.removeprefix(tree), content)
        for path, content in sorted(existing.items())
        # The record stays in the repository.
        if is_owned(content) and path != RECORD and path.startswith(tree)
    )
    shown = settings.display(target)
    if dry_run:
        return plan_folder(shown, wanted, load.load_outputs(target))
    with write.locked(target, shown, on_wait, name=write.DEPLOY_LOCK_NAME):
        result = plan_folder(shown, wanted, load.load_outputs(target))
        write.apply(result, target)
    return result


def _tree(settings: Settings, environment: str | None) -> str:
    """The prefix, under the output folder, of what a deploy ships: one
    environment's folder, or everything in a project without environments."""
    environment = settings.environment(environment)
    if environment is not None:
        return f"{environment}/"
    if settings.environments:
        choices = " or ".join(f"--env {e}" for e in settings.environments)
        raise OptionError(
            [
                Problem(
                    Position("--env", 0),
                    f"each environment deploys to its own Airflow; choose one: {choices}",
                )
            ]
        )
    return ""
