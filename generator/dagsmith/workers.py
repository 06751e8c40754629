"""The pool: renders run in worker processes when there are enough of them.

A worker receives the template set once, when it starts (forked where the
platform allows, so it shares what is loaded), and exits as soon as the run
that started it is gone.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from .cache import Target
from .errors import Problem
from .model import Document, Output, Spec, TemplateSet

# Told (done, total) as specs are built, for a progress line.
Progress = Callable[[int, int], None]
# One spec's output from its spec, the templates and its inputs digest.
Produce = Callable[[Spec, TemplateSet, str], Output | Problem]


@dataclass(frozen=True)
class Job:
    """One output to make: its spec, and the target it is for."""

    spec: Spec
    target: Target


# Fewer renders than this run in this process: a pool costs more than it saves.
PARALLEL_MIN = 24


# Worker processes: the template set is handed over once, when each one starts.
_worker: tuple[TemplateSet, Produce] | None = None


def _start_worker(templates: TemplateSet, produce: Produce) -> None:
    global _worker
    _worker = (templates, produce)
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


def _produce_in_worker(job: Job) -> Output | Problem:
    assert _worker is not None
    templates, produce = _worker
    return produce(job.spec, templates, job.target.inputs)


def _portable(spec: Spec) -> Spec:
    """The spec without its positions, which rendering never needs: less to pickle."""
    document = spec.document
    return replace(spec, document=Document(document.path, document.index, {}, {}, {}))


def produce_all(
    produce: Produce,
    jobs: list[Job],
    templates: TemplateSet,
    progress: Progress,
) -> Iterator[Output | Problem]:
    """Each job's output, in order; in worker processes when there are many.

    `produce` must be a module-level function, so that a worker can import it.
    """
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_MIN or workers < 2:
        for done, job in enumerate(jobs, 1):
            yield produce(job.spec, templates, job.target.inputs)
            progress(done, len(jobs))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start at once and share the loaded templates; where it is
    # missing (macOS, Windows) the default start method does the same, slower.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(jobs) // (workers * 8))
    portable = [replace(job, spec=_portable(job.spec)) for job in jobs]
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(templates, produce),
    ) as pool:
        for done, result in enumerate(
            pool.map(_produce_in_worker, portable, chunksize=chunk), 1
        ):
            yield result
            progress(done, len(jobs))
