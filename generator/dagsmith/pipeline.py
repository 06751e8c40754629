"""Run the stages over every spec, top to bottom.

A run:

1. reads every input once: spec files, templates, its own code, the cache;
2. computes the keys: each spec file's, and the tool key of the cache;
3. decides what it can reuse: spec files unchanged since a run whose outputs
   are still exactly right are neither parsed nor rendered;
4. validates the rest;
5. renders, formats and compiles what it cannot reuse, in worker processes
   when there are enough of them;
6. plans the changes to a folder (`status`);
7. applies them (`generate`), or shows them (`check`); `airflow/deploy.py`
   applies the same plan to an Airflow dags folder.

Jinja2, black and the process pool are imported where they are first used: a
run that reuses every output (a pre-commit hook, most of the time) needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from . import cache, load, write
from .cache import Generated, Target
from .config import Candidate, Settings
from .errors import InputError, Position, Problem
from .format import format_source, mode_key
from .header import header
from .keys import (
    closure_of,
    inputs_digest,
    spec_keys,
    template_key,
    templates_fingerprint,
    tool_key,
)
from .model import RECORD, Output, Plan, Spec, SpecSources, TemplateSet
from .plan import make_plan
from .syntax import compile_problem
from .validate import Validation, validate
from .version import __version__
from .workers import Job, Progress, Rendering


def silent(done: int, total: int) -> None:
    """No progress to show."""


def ignore(output: Output) -> None:
    """Nothing to do with an output as soon as it is made."""


@dataclass(frozen=True)
class Build:
    """What every spec yields, in spec order, and the cache that records it."""

    files: tuple[Generated, ...]
    templates: TemplateSet
    rendered: int
    state: cache.State
    tool: str  # the cache's key: dagsmith's and black's versions and code
    learned: bool  # whether `state` differs from the local cache this run read
    recorded: cache.Record  # what the output folder's record said

    @property
    def packs(self) -> dict[str, tuple[str, str]]:
        """The packs whose templates made the outputs: (distribution, version)."""
        found = (self.templates.pack_of(t.template) for t in self.targets)
        return {p.name: (p.distribution, p.version) for p in found if p}

    @property
    def wanted(self) -> tuple[Output, ...]:
        """What the output folder should hold: every output, and its record."""
        if not self.files:
            return ()
        record = cache.Record(self.tool, self.state, self.packs)
        return (*self.outputs, Output(RECORD, cache.to_record(record)))

    @property
    def targets(self) -> tuple[Target, ...]:
        """What each spec document yields, in spec order."""
        return tuple(f.target for f in self.files)

    @property
    def outputs(self) -> tuple[Output, ...]:
        """The output files, in spec order."""
        return tuple(f.output for f in self.files)


def build(
    settings: Settings,
    progress: Progress = silent,
    existing: Mapping[str, bytes] | None = None,
    *,
    incremental: bool = True,
    made: Callable[[Output], None] = ignore,
) -> Build:
    """Every output, or InputError listing every problem in every spec and template.

    `existing` is the output folder's files by path; with `incremental`, the
    local cache says which of them are still exactly right. `made` is told
    each rendered output as soon as it is made (`generate` stages it).
    """
    existing = existing or {}
    # 1. Read every input once.
    sources = load.read_spec_sources(settings)
    recorded = cache.from_record(existing.get(RECORD, b""))
    templates, template_problems = load.load_templates(settings, recorded.packs)
    caches = load.read_caches(settings.state / "cache") if incremental else {}
    # 2. Compute the keys.
    tool = tool_key(__version__, load.read_own_code(), run_key(settings))
    keys = spec_keys(sources)
    fingerprint = templates_fingerprint(templates)
    local = cache.from_json(caches.get(tool, ""))
    trusted = recorded.state if incremental and recorded.tool == tool else cache.State()
    state = cache.combine(keys, local, trusted)
    # 3. Decide what can be reused.
    template_keys = _known_template_keys(templates, state.closures)
    kept = (
        {} if template_problems else cache.settled(keys, template_keys, state, existing)
    )
    # 4. Check the templates, unless a run already passed them.
    checked = state.templates == fingerprint
    found = list(template_problems)
    if not checked:
        from .render import check_templates

        found += check_templates(templates)
    # 5. Validate the specs not reused, and render them as they pass. Many
    # specs: workers start now, and import black while the first are read.
    fresh = sum(1 for s in sources.specs if s.path not in kept)
    expected = 0 if template_problems else fresh
    run = _Run(sources, templates, existing, state, checked, settings.environments)
    with Rendering(produce, warm, templates, expected) as rendering:
        broken = {p.where.file for p in found}
        specs, problems, reused = run.validate(kept, broken, rendering)
        if kept and (problems or _clashes(kept, specs)):
            kept = {}  # report every problem with its line: validate every spec
            rendering.cancel()
            specs, problems, reused = run.validate(kept, broken, rendering)
        used = {s.template for s in specs} | {
            t.template for ts in kept.values() for t in ts
        }
        problems, unused_broken = counted_problems([*found, *problems], templates, used)
        made_now, failed = _collect(rendering, progress, made)
    if problems or failed:
        raise InputError([*problems, *counted_problems(failed, templates, used)[0]])
    files = _in_spec_order(sources, [*reused, *made_now, *_kept(kept, existing)])
    closures = _closures(templates, files, state.closures, kept)
    # A broken pack that no spec uses is checked again, until one is fixed.
    checked_set = "" if unused_broken else fingerprint
    learned = cache.next_state(keys, files, closures, checked_set)
    rendered = len(rendering.jobs)
    return Build(files, templates, rendered, learned, tool, learned != local, recorded)


def counted_problems(
    problems: Iterable[Problem], templates: TemplateSet, used: set[str]
) -> tuple[list[Problem], bool]:
    """The problems that count, each in a pack's file saying which installed
    file of which version it is; and whether any did not count.

    A problem in a pack no spec uses does not count: an installed pack
    nobody uses cannot break a project.
    """
    in_use = {p.name for name in used if (p := templates.pack_of(name))}
    counted, dropped = [], False
    for problem in problems:
        pack = templates.pack_of(problem.where.file)
        if pack is None or pack.folder is None:
            counted.append(problem)
        elif pack.name in in_use:
            relative = problem.where.file.partition("/")[2]
            installed = pack.folder / relative
            message = f"{problem.message} (pack {pack.name}: {pack.label}, {installed})"
            counted.append(Problem(problem.where, message))
        else:
            dropped = True
    return counted, dropped


def run_key(settings: Settings) -> str:
    """What shapes every output besides the inputs and the tool's code: black's
    mode, and the declared environments (each output's folder)."""
    if not settings.environments:
        return mode_key()
    return f"{mode_key()}; environments {' '.join(settings.environments)}"


def _known_template_keys(
    templates: TemplateSet, closures: cache.Closures
) -> dict[str, str]:
    """Each template's key over the closure a cache knows for it: no Jinja2 needed,
    and a closure whose sources changed gives a key that matches nothing."""
    return {
        name: template_key(templates, name, closure)
        for name, closure in closures.items()
        if name in templates.templates
    }


def _closures(
    templates: TemplateSet,
    files: Iterable[Generated],
    known: cache.Closures,
    kept: Mapping[str, tuple[Target, ...]],
) -> dict[str, tuple[str, ...]]:
    """The closure of every template the outputs use: the known one where a kept
    spec proved it current, else found by parsing."""
    current = {t.template for targets in kept.values() for t in targets}
    return {
        name: known[name] if name in current else closure_of(templates, name)
        for name in sorted({f.target.template for f in files})
    }


@dataclass(frozen=True)
class _Run:
    """What one build reads once and every step of it consults."""

    sources: SpecSources
    templates: TemplateSet
    existing: Mapping[str, bytes]
    state: cache.State
    contracts_checked: bool
    environments: tuple[str, ...]

    def validate(
        self,
        kept: Mapping[str, object],
        broken: set[str],
        rendering: Rendering,
    ) -> tuple[list[Spec], list[Problem], list[Generated]]:
        """The valid specs of the files not kept, and every problem found in
        them; the outputs still exactly right, and the rest started in
        `rendering` as their part of the files passes."""
        fresh = [s for s in self.sources.specs if s.path not in kept]
        if kept and not fresh:
            return [], [], []
        defaults, problems = load.parse_defaults(self.sources)
        validation = Validation(
            defaults.values(),
            self.templates,
            contracts_checked=self.contracts_checked,
            environments=self.environments,
        )
        specs, reused = [], []
        for part in rendering.parts(fresh):
            documents, failed = load.parse_files(self.sources, part, defaults)
            valid = validation.add(documents)
            right, jobs = self._reuse_or_render(valid, broken)
            rendering.start(jobs)
            specs += valid
            reused += right
            problems += failed
        return specs, [*self.sources.problems, *problems, *validation.finish()], reused

    def _reuse_or_render(
        self, specs: list[Spec], broken: set[str]
    ) -> tuple[list[Generated], list[Job]]:
        """The outputs that are still exactly right, and the specs left to render."""
        templates = self.templates
        reused: list[Generated] = []
        jobs: list[Job] = []
        for spec in specs:
            if broken and broken & uses(templates, spec.template):
                continue  # its syntax error is reported once, not once per spec
            target = Target(
                spec.dag_id,
                spec.template,
                spec.namespace,
                spec.path,
                spec.output,
                inputs_digest(spec, templates),
                template_key(
                    templates, spec.template, closure_of(templates, spec.template)
                ),
            )
            old = self.existing.get(spec.output)
            if old is not None and cache.reusable(old, target.inputs, self.state):
                reused.append(Generated(target, Output(spec.output, old, spec.path)))
            else:
                jobs.append(Job(spec, target))
        return reused, jobs


def _validate(
    sources: SpecSources, templates: TemplateSet, environments: tuple[str, ...]
) -> tuple[list[Spec], list[Problem]]:
    """The valid specs of every file, and every problem found in them."""
    loaded = load.parse_specs(sources)
    specs, invalid = validate(
        loaded.documents, loaded.defaults, templates, environments=environments
    )
    return specs, [*loaded.problems, *invalid]


def _clashes(kept: Mapping[str, tuple[Target, ...]], specs: Iterable[Spec]) -> bool:
    """Whether a newly parsed spec claims a dag_id or output of an unparsed one."""
    targets = [t for ts in kept.values() for t in ts]
    ids = {t.dag_id for t in targets}
    outputs = {t.output.lower() for t in targets}
    return any(s.dag_id in ids or s.output.lower() in outputs for s in specs)


def _collect(
    rendering: Rendering, progress: Progress, told: Callable[[Output], None]
) -> tuple[list[Generated], list[Problem]]:
    """Each job rendered, formatted and compiled, and `told`; or the problem it met."""
    made, failed = [], []
    results = rendering.results(progress)
    for job, result in zip(rendering.jobs, results, strict=True):
        if isinstance(result, Problem):
            failed.append(result)
        else:
            made.append(Generated(job.target, result))
            told(result)
    return made, failed


def _kept(
    kept: Mapping[str, tuple[Target, ...]], existing: Mapping[str, bytes]
) -> list[Generated]:
    """The outputs of spec files that were not even parsed, as they are."""
    return [
        Generated(t, Output(t.output, existing[t.output], t.spec))
        for targets in kept.values()
        for t in targets
    ]


def _in_spec_order(
    sources: SpecSources, files: list[Generated]
) -> tuple[Generated, ...]:
    """Spec file order; sorted() is stable, so documents keep theirs within a file."""
    order = {s.path: i for i, s in enumerate(sources.specs)}
    return tuple(sorted(files, key=lambda f: order[f.target.spec]))


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


def warm(templates: TemplateSet) -> None:
    """What a worker does before its first job: import black and Jinja2."""
    from .render import environment

    format_source("pass\n", Position("(warm-up)"))
    environment(templates)


def load_and_validate(
    settings: Settings,
) -> tuple[list[Spec], TemplateSet, list[Problem]]:
    """The valid specs, the templates, and every problem found on the way."""
    from .render import check_templates

    sources = load.read_spec_sources(settings)
    templates, template_problems = load.load_templates(settings)
    specs, problems = _validate(sources, templates, settings.environments)
    found = [*template_problems, *problems, *check_templates(templates)]
    counted, _ = counted_problems(found, templates, {s.template for s in specs})
    return specs, templates, counted


def uses(templates: TemplateSet, name: str) -> set[str]:
    """The files a template is made of: itself, and what it includes or imports."""
    closure = closure_of(templates, name)
    return {templates.templates[name].path} | {templates.shown(n) for n in closure}


def remember(settings: Settings, built: Build) -> None:
    """Keep the cache for the next run, when this one learned something new."""
    if built.learned:
        write.save_cache(
            settings.state / "cache", built.tool, cache.to_json(built.state)
        )


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
    progress: Progress = silent,
    existing: Mapping[str, bytes] | None = None,
    made: Callable[[Output], None] = ignore,
) -> tuple[Build, Plan]:
    """Every output, built against the output folder as it is (read once when not
    given), and the changes that bring the folder to them."""
    if existing is None:
        existing = load.load_outputs(settings.out)
    built = build(settings, progress, existing, made=made)
    changes = plan_folder(settings.display(settings.out), built.wanted, existing)
    return built, replace(changes, notes=pack_notes(built, changes))


def pack_notes(built: Build, changes: Plan) -> tuple[str, ...]:
    """For each pack whose version differs from the record's: what it changes."""
    notes = []
    pending = {c.path for c in changes.pending if c.is_dag}
    for name, (distribution, version) in sorted(built.packs.items()):
        before = built.recorded.packs.get(name)
        if before is None or before == (distribution, version):
            continue
        old = before[1] if before[0] == distribution else " ".join(before)
        changed = sum(
            1
            for t in built.targets
            if t.output in pending and t.template.startswith(f"{name}/")
        )
        if changed:
            files = "1 DAG file" if changed == 1 else f"{changed} DAG files"
            notes.append(
                f"templates from {name} {version}; the output was generated "
                f"with {old}: {files} change"
            )
        else:
            notes.append(
                f"templates from {name} {version} give the DAGs that {old} gave: "
                "only the record changes"
            )
    return tuple(notes)


def generate(
    settings: Settings,
    on_wait: Callable[[], None] = lambda: None,
    progress: Progress = silent,
) -> Plan:
    """Build everything and bring the output folder up to date, under its lock.

    The lock is held from the first read of the output folder to the last
    write, so what this run reuses and plans against is what it replaces.
    """
    with write.locked(settings.state, settings.display(settings.state), on_wait):
        existing = load.load_outputs(settings.out)
        with write.Staging(settings.out, existing) as early:
            built, changes = status(settings, progress, existing, early.offer)
            write.apply(changes, settings.out, early=early)
        remember(settings, built)
    return changes


def check(
    settings: Settings,
    progress: Progress = silent,
    existing: Mapping[str, bytes] | None = None,
) -> Plan:
    """What `generate` would change; writes nothing but the local cache."""
    built, changes = status(settings, progress, existing)
    remember(settings, built)
    return changes


def spec_of(settings: Settings, name: str, environment: str | None = None) -> Spec:
    """The valid spec of a dag_id or spec file, in one environment when the
    project declares them; InputError when no spec declares it."""
    settings.environment(environment)  # a bad --env is said before any parsing
    specs, _, problems = load_and_validate(settings)
    candidates = (Candidate(s, s.dag_id, s.path, s.environment) for s in specs)
    found = settings.pick(name, environment, candidates)
    # A spec broken in one environment is not triggered in another either.
    if len(found) == 1 and all(p.where.file != found[0].path for p in problems):
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
