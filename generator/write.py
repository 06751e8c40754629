"""Apply a plan to a folder: each file atomically, the whole run under a lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .model import OutputError, Plan, Position, Problem

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
        raise OutputError(
            [Problem(Position(shown), f"cannot lock: {error.strerror}")]
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace a file's content in one rename: readers see the old or the new bytes."""
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
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stray_temps(folder: Path) -> None:
    """Delete temp files that a killed run left behind."""
    for temp in sorted(folder.rglob(f"*{TEMP_SUFFIX}")):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def apply(plan: Plan, folder: Path) -> None:
    """Write what the plan creates and updates, then remove what it removes."""
    current = folder
    try:
        remove_stray_temps(folder)
        for change in plan.pending:
            current = folder / change.path
            if change.new is not None:
                write_atomic(current, change.new)
        for change in plan.of_kind("remove"):
            current = folder / change.path
            current.unlink(missing_ok=True)
            if current.parent != folder:
                with contextlib.suppress(
                    OSError
                ):  # succeeds only on a folder left empty
                    current.parent.rmdir()
    except OSError as error:
        shown = (
            f"{plan.out}/{current.relative_to(folder).as_posix()}"
            if current != folder
            else plan.out
        )
        raise OutputError(
            [Problem(Position(shown), f"cannot write: {error.strerror or error}")]
        ) from None


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
