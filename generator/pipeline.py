"""Run the stages over every spec: load, validate, render, format, verify, then plan.

An output whose header records the spec's current input digest, whose body is
intact, and which this dagsmith and black produced before (the local cache)
is reused without rendering. The rest render in worker processes when there
are enough of them to pay for the pool.

Jinja2, black and the process pool are imported where they are first used: a
run that reuses every output (a pre-commit hook, most of the time) needs none.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from . import load, write
from .config import Settings
from .format import format_source
from .header import header, is_owned
from .incremental import (
    State,
    Target,
    from_json,
    next_state,
    reusable,
    settled,
    spec_keys,
    templates_fingerprint,
    to_json,
    tool_key,
)
from .inputs import inputs_digest, template_closure
from .model import (
    Document,
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
from .validate import validate
from .verify import DagBagReport, check_parsed, compile_problem, parse_in_airflow

# Told (done, total) as specs are built, for a progress line.
Progress = Callable[[int, int], None]
# Fewer renders than this run in this process: a pool costs more than it saves.
PARALLEL_MIN = 24


def _silent(done: int, total: int) -> None:
    """No progress to show."""


@dataclass(frozen=True)
class Build:
    """What every spec yields, in spec order, and the cache that records it."""

    targets: tuple[Target, ...]
    outputs: tuple[Output, ...]
    rendered: int
    state: State
    learned: bool  # whether `state` differs from the cache this run started from


def produce(spec: Spec, templates: TemplateSet, inputs: str) -> Output | Problem:
    """One spec's output file: render, format, add the header, compile."""
    from .render import render

    template = templates.templates[spec.template]
    source = render(spec, templates)
    if isinstance(source, Problem):
        return source
    where = Position(template.path)
    body = format_source(source, where)
    if isinstance(body, Problem):
        return Problem(body.where, f"{body.message} (rendering {spec.path})")
    text = header(spec, inputs, body) + body
    problem = compile_problem(text, spec.output, where)
    if problem is not None:
        return Problem(problem.where, f"{problem.message} (rendering {spec.path})")
    return Output(spec.output, text.encode("utf-8"), spec.path)


def load_and_validate(
    settings: Settings,
) -> tuple[list[Spec], TemplateSet, list[Problem]]:
    """The valid specs, the templates, and every problem found on the way."""
    from .render import check_templates

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


# Worker processes: the template set is handed over once, when each one starts.
_worker_templates: TemplateSet | None = None


def _start_worker(templates: TemplateSet) -> None:
    global _worker_templates
    _worker_templates = templates
    watch = threading.Thread(target=_exit_with_parent, args=(os.getppid(),))
    watch.daemon = True
    watch.start()


def _exit_with_parent(parent: int) -> None:
    """End this worker once the run that forked it is gone (killed, say).

    An orphaned worker would wait for jobs forever, holding a copy of the
    output folder's lock, so the next run would wait forever too.
    """
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def _produce_in_worker(job: tuple[Spec, str]) -> Output | Problem:
    assert _worker_templates is not None
    return produce(job[0], _worker_templates, job[1])


def _portable(spec: Spec) -> Spec:
    """The spec without its positions, which rendering never needs: less to pickle."""
    document = spec.document
    return replace(spec, document=Document(document.path, document.index, {}, {}, {}))


def produce_all(
    jobs: list[tuple[Spec, str]], templates: TemplateSet, progress: Progress
) -> Iterator[Output | Problem]:
    """Each job's output, in order; in worker processes when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_MIN or workers < 2:
        for done, (spec, inputs) in enumerate(jobs, 1):
            yield produce(spec, templates, inputs)
            progress(done, len(jobs))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start at once and share the loaded templates; where it is
    # missing (macOS, Windows) the default start method does the same, slower.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(jobs) // (workers * 8))
    portable = [(_portable(spec), inputs) for spec, inputs in jobs]
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(templates,)
    ) as pool:
        for done, result in enumerate(
            pool.map(_produce_in_worker, portable, chunksize=chunk), 1
        ):
            yield result
            progress(done, len(jobs))


def uses(templates: TemplateSet, name: str) -> set[str]:
    """The files a template is made of: itself, and what it includes or imports."""
    template = templates.templates[name]
    if template.kind == "legacy":
        return {template.path}
    relative = template.path.removeprefix(f"{templates.root}/")
    return {f"{templates.root}/{n}" for n in template_closure(templates, relative)}


def _target(spec: Spec, inputs: str) -> Target:
    return Target(
        spec.dag_id, spec.template, spec.namespace, spec.path, spec.output, inputs
    )


def _clashes(settled: Iterable[Target], specs: Iterable[Spec]) -> bool:
    """Whether a newly parsed spec claims a dag_id or output of an unparsed one."""
    ids = {t.dag_id for t in settled}
    outputs = {t.output.lower() for t in settled}
    return any(s.dag_id in ids or s.output.lower() in outputs for s in specs)


def build(
    settings: Settings,
    progress: Progress = _silent,
    existing: Mapping[str, bytes] | None = None,
    *,
    incremental: bool = True,
) -> Build:
    """Every output, or InputError listing every problem in every spec and template.

    Spec files unchanged since the last run, whose outputs in `existing` are
    still exactly right, are neither parsed nor rendered (see incremental.py).
    """
    existing = existing or {}
    state_text = (
        load.read_local_text(settings.state / "cache" / tool_key())
        if incremental
        else ""
    )
    state = from_json(state_text) if state_text else State()
    sources = load.read_spec_sources(settings)
    templates, template_problems = load.load_templates(settings)
    problems = list(template_problems)
    keys = spec_keys(sources, templates_fingerprint(templates))
    kept = settled(keys, state, existing) if not problems else {}
    fresh = [s for s in sources.specs if s.path not in kept]
    specs: list[Spec] = []
    if fresh or not kept:
        loaded = load.parse_specs(sources, fresh)
        # Unchanged spec files mean unchanged templates: their contracts passed.
        specs, invalid = validate(
            loaded.documents, loaded.defaults, templates, contracts_checked=bool(kept)
        )
        problems += [*loaded.problems, *invalid]
    if not kept:  # else these templates already passed, unchanged, in the last run
        from .render import check_templates

        problems += check_templates(templates)
    if kept and (problems or _clashes((t for ts in kept.values() for t in ts), specs)):
        # Report every problem with its line: the full way, from scratch.
        return build(settings, progress, existing, incremental=False)
    broken = {p.where.file for p in problems}
    results: dict[Target, Output] = {}
    jobs = []
    for spec in specs:
        if broken & uses(templates, spec.template):
            continue  # its syntax error is reported once, not once per spec
        target = _target(spec, inputs_digest(spec, templates))
        old = existing.get(spec.output)
        if old is not None and reusable(old, target.inputs, state):
            results[target] = Output(spec.output, old, spec.path)
        else:
            jobs.append((spec, target))
    rendered = produce_all([(s, t.inputs) for s, t in jobs], templates, progress)
    for (_, target), result in zip(jobs, rendered, strict=True):
        if isinstance(result, Problem):
            problems.append(result)
        else:
            results[target] = result
    if problems:
        raise InputError(problems)
    for targets in kept.values():
        for target in targets:
            results[target] = Output(
                target.output, existing[target.output], target.spec
            )
    order = {s.path: i for i, s in enumerate(sources.specs)}
    # Spec file order; sorted() is stable, so documents keep theirs within a file.
    targets = tuple(sorted(results, key=lambda t: order[t.spec]))
    outputs = tuple(results[t] for t in targets)
    next_ = next_state(keys, targets, outputs)
    return Build(targets, outputs, len(jobs), next_, next_ != state)


def remember(settings: Settings, built: Build) -> None:
    """Keep the cache for the next run, when this one learned something new."""
    if built.learned:
        write.save_cache(settings.state / "cache", tool_key(), to_json(built.state))


def plan_folder(
    shown: str, wanted: tuple[Output, ...], existing: Mapping[str, bytes]
) -> Plan:
    """The changes that bring a folder's files to `wanted`; InputError on foreign files."""
    result, problems = make_plan(shown, wanted, existing)
    if problems:
        raise InputError(problems)
    return result


def status(
    settings: Settings,
    progress: Progress = _silent,
    existing: Mapping[str, bytes] | None = None,
) -> tuple[Build, Plan]:
    """Every output, built against the output folder as it is (read once when not
    given), and the changes that bring the folder to them."""
    if existing is None:
        existing = load.load_outputs(settings.out)
    built = build(settings, progress, existing)
    changes = plan_folder(settings.display(settings.out), built.outputs, existing)
    return built, changes


def generate(
    settings: Settings,
    on_wait: Callable[[], None] = lambda: None,
    progress: Progress = _silent,
) -> Plan:
    """Build everything and bring the output folder up to date, under its lock.

    The lock is held from the first read of the output folder to the last
    write, so what this run reuses and plans against is what it replaces.
    """
    with write.locked(settings.state, settings.display(settings.state), on_wait):
        built, changes = status(settings, progress)
        write.apply(changes, settings.out)
        remember(settings, built)
    return changes


def check(
    settings: Settings,
    progress: Progress = _silent,
    existing: Mapping[str, bytes] | None = None,
) -> Plan:
    """What `generate` would change; writes nothing but the local cache."""
    built, changes = status(settings, progress, existing)
    remember(settings, built)
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
    existing = load.load_outputs(settings.out)
    if not force:
        drift = check(settings, progress, existing).pending
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
        for path, content in sorted(existing.items())
        if is_owned(content)
    )
    shown = settings.display(target)
    if dry_run:
        return plan_folder(shown, wanted, load.load_outputs(target))
    with write.locked(target, shown, on_wait, name=write.DEPLOY_LOCK_NAME):
        result = plan_folder(shown, wanted, load.load_outputs(target))
        write.apply(result, target)
    return result


def spec_of(settings: Settings, name: str) -> Spec:
    """The valid spec of a dag_id or spec file; InputError when no spec declares it."""
    specs, _, problems = load_and_validate(settings)
    shown = settings.display(Path(name)) if Path(name).exists() else None
    found = [s for s in specs if name in (s.dag_id, s.path) or s.path == shown]
    if len(found) == 1:
        return found[0]
    if problems:  # the spec may be the one that is broken
        raise InputError(problems)
    where = Position(settings.display(settings.specs), 0, 0)
    if found:
        message = f"{name} holds {len(found)} DAGs; name one dag_id"
    else:
        known = ", ".join(sorted(s.dag_id for s in specs)) or "none"
        message = f"no spec declares dag_id {name!r} (dag_ids: {known})"
    raise InputError([Problem(where, message)])
