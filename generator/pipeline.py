"""Run the stages over every spec: load, validate, render, format, verify, then plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import load, write
from .config import Settings
from .digest import header, inputs_digest, is_owned
from .format import format_source
from .model import (
    InputError,
    Output,
    Plan,
    Position,
    Problem,
    Spec,
    StaleError,
    TemplateSet,
    VerifyError,
)
from .plan import make_plan
from .render import check_templates, render
from .validate import validate
from .verify import DagBagReport, check_parsed, compile_problem, parse_in_airflow

# Told (done, total) as specs are built, for a progress line.
Progress = Callable[[int, int], None]


def _silent(done: int, total: int) -> None:
    """No progress to show."""


@dataclass(frozen=True)
class Build:
    """Every valid spec and its finished output, in spec order."""

    specs: tuple[Spec, ...]
    outputs: tuple[Output, ...]


def produce(spec: Spec, templates: TemplateSet) -> Output | Problem:
    """One spec's output file: render, format, add the header, compile."""
    template = templates.templates[spec.template]
    source = render(spec, templates)
    if isinstance(source, Problem):
        return source
    where = Position(template.path)
    body = format_source(source, where)
    if isinstance(body, Problem):
        return Problem(body.where, f"{body.message} (rendering {spec.path})")
    text = header(spec, inputs_digest(spec, templates), body) + body
    problem = compile_problem(text, spec.output, where)
    if problem is not None:
        return Problem(problem.where, f"{problem.message} (rendering {spec.path})")
    return Output(spec.output, text.encode("utf-8"), spec.path)


def load_and_validate(
    settings: Settings,
) -> tuple[list[Spec], TemplateSet, list[Problem]]:
    """The valid specs, the templates, and every problem found on the way."""
    loaded = load.load_specs(settings)
    templates, template_problems = load.load_templates(settings)
    specs, problems = validate(loaded.documents, loaded.defaults, templates)
    problems = [
        *loaded.problems,
        *template_problems,
        *problems,
        *check_templates(templates),
    ]
    return specs, templates, problems


def build(settings: Settings, progress: Progress = _silent) -> Build:
    """Every output, or InputError listing every problem in every spec and template."""
    specs, templates, problems = load_and_validate(settings)
    broken = {p.where.file for p in problems}
    outputs = []
    for done, spec in enumerate(specs, 1):
        progress(done, len(specs))
        template = templates.templates[spec.template]
        if template.path in broken:
            continue  # its syntax error is reported once, not once per spec
        result = produce(spec, templates)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            outputs.append(result)
    if problems:
        raise InputError(problems)
    return Build(tuple(specs), tuple(outputs))


def plan(settings: Settings, outputs: tuple[Output, ...]) -> Plan:
    """The changes that bring the output folder to `outputs`."""
    result, problems = make_plan(
        settings.display(settings.out), outputs, load.load_outputs(settings.out)
    )
    if problems:
        raise InputError(problems)
    return result


def generate(
    settings: Settings,
    on_wait: Callable[[], None] = lambda: None,
    progress: Progress = _silent,
) -> Plan:
    """Build everything, then bring the output folder up to date under its lock."""
    outputs = build(settings, progress).outputs
    with write.locked(settings.state, settings.display(settings.state), on_wait):
        changes = plan(settings, outputs)
        write.apply(changes, settings.out)
    return changes


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
    report = parse_in_airflow(settings.out, sorted(present), python)
    failed = missing + check_parsed(specs, out, report)
    if failed:
        raise VerifyError(failed)
    return report


def check(settings: Settings, progress: Progress = _silent) -> Plan:
    """What `generate` would change; writes nothing."""
    return plan(settings, build(settings, progress).outputs)


def deploy(
    settings: Settings,
    target: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    on_wait: Callable[[], None] = lambda: None,
    progress: Progress = _silent,
) -> Plan:
    """Sync the owned output files into an Airflow dags folder, atomically per file.

    Refuses (StaleError) while `check` would fail, unless forced: what is
    deployed is what was reviewed.
    """
    if not force:
        drift = check(settings, progress).pending
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
        Output(path, content)
        for path, content in sorted(load.load_outputs(settings.out).items())
        if is_owned(content)
    )
    shown = settings.display(target)

    def changes() -> Plan:
        result, problems = make_plan(shown, wanted, load.load_outputs(target))
        if problems:
            raise InputError(problems)
        return result

    if dry_run:
        return changes()
    with write.locked(target, shown, on_wait, name=write.DEPLOY_LOCK_NAME):
        result = changes()
        write.apply(result, target)
    return result
