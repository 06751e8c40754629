"""Apply a plan to a folder: stage every file, then rename them into place, under a lock.

The guarantee, in two steps:

1. Stage: each new file is written to a temp file beside its target (a name
   that never ends in `.py`, so Airflow never parses it) and fsynced. If any
   write fails (disk full, read-only folder) every temp file is removed and
   the folder is exactly as it was.
2. Commit: each temp file is renamed over its target (atomic on POSIX), then
   removed files are deleted and the folders fsynced. A kill here leaves each
   file either old or new, never partial; the next run finishes the job and
   clears stray temp files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import OutputError, Position, Problem
from .model import Output, Plan

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

LOCK_NAME = "lock"
# In a dags folder: not a .py file, so Airflow ignores it.
DEPLOY_LOCK_NAME = ".dagsmith-deploy.lock"
# Never ends in .py, so Airflow never parses a half-written file.
TEMP_SUFFIX = ".dagsmith-tmp"


@contextlib.contextmanager
def locked(
    folder: Path, shown: str, on_wait: Callable[[], None], name: str = LOCK_NAME
) -> Iterator[None]:
    """Hold the lock file in `folder`; the kernel frees it if this process dies.

    flock rather than a pid file: a killed run can never leave a stale lock.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        problem = Problem(Position(shown), f"cannot lock: {error.strerror or error}")
        raise OutputError([problem]) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def stage(path: Path, content: bytes) -> Path:
    """Write content to a durable temp file beside `path`; return the temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return Path(temp)


def fsync_folder(folder: Path) -> None:
    """Make renames and removals in a folder durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace a file's content in one rename: readers see the old or the new bytes."""
    os.replace(stage(path, content), path)
    fsync_folder(path.parent)


def remove_stray_temps(folder: Path) -> None:
    """Delete temp files that a killed run left behind."""
    for temp in sorted(folder.rglob(f"*{TEMP_SUFFIX}")):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _inside(real_folder: str, target: Path) -> bool:
    """Whether a target's folder is in the (resolved) output folder, links resolved."""
    return Path(os.path.realpath(target.parent)).is_relative_to(real_folder)


def _check_inside(real_folder: str, target: Path, shown: str) -> None:
    """Refuse a target whose folder is a link out of the (resolved) output folder."""
    if not _inside(real_folder, target):
        problem = Problem(
            Position(shown), "its folder is a symlink out of the output folder"
        )
        raise OutputError([problem])


def _discard(staged: list[tuple[Path, Path]]) -> None:
    """Remove the temp files not renamed into place (yet)."""
    for temp, _ in staged:
        with contextlib.suppress(OSError):
            temp.unlink()


def apply(
    plan: Plan, folder: Path, *, sweep: bool = True, early: Staging | None = None
) -> None:
    """Stage every new file, then rename them all into place, then remove.

    `sweep` first clears the temp files a killed run left in the folder (an
    output folder); not for a project's root, which holds much else. Files
    `early` staged while the outputs were being made are used as they are.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        if sweep and early is None and folder.is_dir():
            with _writing(plan.out):
                remove_stray_temps(folder)
        _stage_all(plan, folder, staged, early)
        _commit(plan, folder, staged)
    except BaseException:
        _discard(staged)  # nothing half-done: no temp file stays behind
        raise


# Staging waits on the disk (fsync), not the CPU: a few threads overlap the
# waits of a large plan. A small one, the usual incremental run, needs none.
STAGE_THREADS = 8
THREADED_FROM = 16


def _stage_all(
    plan: Plan,
    folder: Path,
    staged: list[tuple[Path, Path]],
    early: Staging | None,
) -> None:
    """Write every new file of the plan as a temp file beside its target."""
    real_folder = os.path.realpath(folder)
    writes = []
    for change in plan.pending:
        shown = plan.shown(change.path)
        _check_inside(real_folder, folder / change.path, shown)
        if change.new is None:
            continue
        temp = early.take(change.path, change.new, shown) if early else None
        if temp is not None:
            staged.append((temp, folder / change.path))
        else:
            writes.append((shown, folder / change.path, change.new))
    if len(writes) < THREADED_FROM:
        for shown, target, content in writes:
            staged.append((_stage_one(shown, target, content), target))
        return
    from concurrent.futures import (
        ThreadPoolExecutor,
    )  # only a large plan pays its import

    with ThreadPoolExecutor(STAGE_THREADS) as pool:
        futures = [pool.submit(_stage_one, *write) for write in writes]
        failed: BaseException | None = None
        for future, (_, target, _) in zip(futures, writes, strict=True):
            try:
                staged.append((future.result(), target))
            except BaseException as error:  # the others are still staged: discard them
                failed = failed or error
    if failed is not None:
        raise failed


class Staging:
    """Temp files written while the outputs are still being made.

    A cold run's workers format for seconds while this process waits for
    them; staging each new output as it arrives overlaps the writes and
    their fsyncs with that wait. `apply` takes the temp files whose bytes are
    the plan's and stages the rest; leaving the block removes every temp
    file not taken, so a run that fails writes nothing.
    """

    def __init__(self, folder: Path, existing: Mapping[str, bytes]) -> None:
        self._folder = folder
        self._real_folder = os.path.realpath(folder)
        self._existing = existing
        self._pending: dict[str, tuple[bytes, Future[Path]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._made: list[Path] = []  # the folders staging creates, deepest last
        self._known: set[Path] = set()  # folders that exist or staging creates

    def __enter__(self) -> Staging:
        # Before any staging: clear the temp files a killed run left behind.
        if self._folder.is_dir():
            remove_stray_temps(self._folder)
        return self

    def offer(self, output: Output) -> None:
        """Start staging `output` when it differs from the folder's file."""
        target = self._folder / output.path
        if self._existing.get(output.path) == output.content:
            return
        if not _inside(self._real_folder, target):
            return  # apply refuses it, with the reason
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(STAGE_THREADS)
        self._note_new_folders(target.parent)
        future = self._pool.submit(stage, target, output.content)
        self._pending[output.path] = (output.content, future)

    def _note_new_folders(self, folder: Path) -> None:
        """Remember the folders that staging into `folder` creates: each folder
        is looked at once, up to the first that exists."""
        new = []
        while folder not in self._known:
            self._known.add(folder)
            if folder.exists():
                break
            new.append(folder)
            folder = folder.parent
        self._made += reversed(new)

    def take(self, path: str, content: bytes, shown: str) -> Path | None:
        """The temp file staged for `path` with `content`; None if there is none."""
        entry = self._pending.get(path)
        if entry is None or entry[0] != content:
            return None
        del self._pending[path]
        with _writing(shown):
            return entry[1].result()

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for _, future in self._pending.values():
            if future.exception() is None:
                with contextlib.suppress(OSError):
                    future.result().unlink()
        for folder in reversed(self._made):  # a failed run leaves no new folder
            with contextlib.suppress(OSError):
                folder.rmdir()


def _stage_one(shown: str, target: Path, content: bytes) -> Path:
    with _writing(shown):
        return stage(target, content)


def _commit(plan: Plan, folder: Path, staged: list[tuple[Path, Path]]) -> None:
    """Rename the staged files into place, remove what goes, then make it durable."""
    touched = set()
    while staged:
        temp, target = staged[0]
        with _writing(plan.shown(target.relative_to(folder).as_posix())):
            os.replace(temp, target)
        staged.pop(0)
        touched.add(target.parent)
    for change in plan.of_kind("remove"):
        target = folder / change.path
        with _writing(plan.shown(change.path)):
            target.unlink(missing_ok=True)
        touched.add(target.parent)
        # A namespace folder (and an environment's) goes only when this left it empty.
        for parent in target.relative_to(folder).parents[:-1]:
            try:
                (folder / parent).rmdir()
            except OSError:
                break
            touched.add((folder / parent).parent)
    for parent in sorted(touched):
        if parent.is_dir():
            relative = parent.relative_to(folder).as_posix()
            with _writing(plan.out if relative == "." else plan.shown(relative)):
                fsync_folder(parent)


@contextlib.contextmanager
def _writing(shown: str) -> Iterator[None]:
    """An OSError while writing `shown` becomes OutputError: one line, exit 1."""
    try:
        yield
    except OSError as error:
        raise OutputError([Problem(Position(shown), _cannot_write(error))]) from None


def _cannot_write(error: OSError) -> str:
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        return "cannot write: a file stands where its folder should be"
    return f"cannot write: {error.strerror or error}"


def save_cache(folder: Path, key: str, text: str) -> None:
    """Replace the cache for this tool key; drop the caches of other versions.

    The cache only saves work: failing to write it is never an error.
    """
    try:
        write_atomic(folder / key, text.encode("utf-8"))
        for stale in folder.iterdir():
            if stale.name != key and not stale.name.endswith(TEMP_SUFFIX):
                stale.unlink()
    except OSError:
        return
