"""The pool: renders run in worker processes when there are enough of them.

A worker receives the template set once, when it starts (forked where the
platform allows, so it shares what is loaded), and exits as soon as the run
that started it is gone. A run that will render many specs starts its pool
before it parses them: the workers import black and compile the templates
while the main process reads and validates the specs.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from .cache import Target
from .errors import Problem
from .model import Document, Output, Spec, TemplateSet

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")

# Told (done, total) as specs are built, for a progress line.
Progress = Callable[[int, int], None]
# One spec's output from its spec, the templates and its inputs digest.
Produce = Callable[[Spec, TemplateSet, str], Output | Problem]
# What a worker does once, before its first job: imports, compiled templates.
Warm = Callable[[TemplateSet], None]


@dataclass(frozen=True)
class Job:
    """One output to make: its spec, and the target it is for."""

    spec: Spec
    target: Target


# Fewer renders than this run in this process: a pool costs more than it saves.
PARALLEL_MIN = 24


# Worker processes: the template set is handed over once, when each one starts.
_worker: tuple[TemplateSet, Produce] | None = None


def _start_worker(templates: TemplateSet, produce: Produce, warm: Warm) -> None:
    global _worker
    _worker = (templates, produce)
    watch = threading.Thread(target=_exit_with_parent, args=(os.getppid(),))
    watch.daemon = True
    watch.start()
    warm(templates)
    # black makes and drops a tree of cycles per file; the collector's own
    # passes over everything loaded cost more than it frees. Freeze what is
    # loaded, and collect once a job instead (measured: black about 14% faster).
    gc.freeze()
    gc.disable()


def _exit_with_parent(parent: int) -> None:
    """End this worker once the run that forked it is gone (killed, say).

    An orphaned worker would wait for jobs forever, holding a copy of the
    output folder's lock, so the next run would wait forever too.
    """
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def _produce_in_worker(jobs: list[Job]) -> list[Output | Problem]:
    assert _worker is not None
    templates, produce = _worker
    results = []
    for job in jobs:
        results.append(produce(job.spec, templates, job.target.inputs))
        gc.collect()  # what this job left; frozen objects are not visited
    return results


def _started() -> None:
    """The first job of a pool: submitting it forks the workers."""


def _portable(spec: Spec) -> Spec:
    """The spec without its positions, which rendering never needs: less to pickle."""
    document = spec.document
    return replace(spec, document=Document(document.path, document.index, {}, {}, {}))


def worker_count() -> int:
    """How many workers a pool has: one per CPU, at most 8."""
    return min(os.cpu_count() or 1, 8)


def worth_a_pool(renders: int) -> bool:
    """Whether `renders` specs are worth the workers' start."""
    return renders >= PARALLEL_MIN and worker_count() >= 2


class Pool:
    """Worker processes over one template set, started at once."""

    def __init__(self, templates: TemplateSet, produce: Produce, warm: Warm) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: workers start at once and share the loaded templates; where it
        # is missing (macOS, Windows) the default start method does the same,
        # slower.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.size = worker_count()
        self._executor: ProcessPoolExecutor = ProcessPoolExecutor(
            self.size,
            mp_context=context,
            initializer=_start_worker,
            initargs=(templates, produce, warm),
        )
        self._executor.submit(_started)

    def start(self, jobs: list[Job]) -> Future[list[Output | Problem]]:
        """Hand jobs to the workers now; their outputs come back in order."""
        portable = [replace(job, spec=_portable(job.spec)) for job in jobs]
        return self._executor.submit(_produce_in_worker, portable)

    def close(self) -> None:
        """End the workers once the jobs they run finish; drop the rest."""
        self._executor.shutdown(wait=True, cancel_futures=True)


# Jobs a part holds at most: the first part starts soon, and the workers end
# within a few jobs of each other (a part costs the pool one hand-over).
PART_MAX = 8


def _split(items: list[T], workers: int) -> list[list[T]]:
    """Parts of at most PART_MAX items, and at least eight a worker."""
    size = max(1, min(PART_MAX, len(items) // (workers * 8)))
    return [items[i : i + size] for i in range(0, len(items), size)]


class Rendering:
    """The jobs of one build, and the workers that make them.

    Expecting many (`expected` spec files to read), the workers start at
    once, and each part of the jobs starts as it is handed over, while the
    specs after it are still being read. Otherwise the jobs run when their
    outputs are asked for, in workers started then if they are many. Leaving
    the block ends the workers.
    """

    def __init__(
        self, produce: Produce, warm: Warm, templates: TemplateSet, expected: int = 0
    ) -> None:
        self._produce = produce
        self._warm = warm
        self._templates = templates
        self.jobs: list[Job] = []
        self._parts: list[tuple[int, Future[list[Output | Problem]]]] = []
        self._pool = self._new_pool() if worth_a_pool(expected) else None

    def _new_pool(self) -> Pool:
        return Pool(self._templates, self._produce, self._warm)

    def parts(self, items: list[T]) -> list[list[T]]:
        """`items` in the parts to hand over one by one: in a pool, small enough
        that the first starts soon and the workers finish together."""
        return [items] if self._pool is None else _split(items, self._pool.size)

    def start(self, jobs: list[Job]) -> None:
        """Queue jobs after the others; in the pool, start them."""
        self.jobs += jobs
        if self._pool is not None and jobs:
            self._parts.append((len(jobs), self._pool.start(jobs)))

    def results(self, progress: Progress) -> Iterator[Output | Problem]:
        """Each job's output, or the problem it met, in the order they came."""
        total = len(self.jobs)
        if self._pool is None and worth_a_pool(total):
            self._pool = self._new_pool()
            parts = _split(self.jobs, self._pool.size)
            self._parts = [(len(part), self._pool.start(part)) for part in parts]
        if self._pool is None:
            for done, job in enumerate(self.jobs, 1):
                yield self._produce(job.spec, self._templates, job.target.inputs)
                progress(done, total)
            return
        done = 0
        for size, part in self._parts:
            yield from part.result()
            done += size
            progress(done, total)

    def cancel(self) -> None:
        """Drop the jobs; those not started yet never start."""
        for _, part in self._parts:
            part.cancel()
        self.jobs, self._parts = [], []

    def __enter__(self) -> Rendering:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.close()
