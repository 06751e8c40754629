"""Where the project's folders are: `[tool.dagsmith]` in pyproject.toml."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .model import InputError, Position, Problem

DEFAULT_FOLDERS = {"specs": "specs", "templates": "templates", "out": "generated_dags"}


@dataclass(frozen=True)
class Settings:
    """Absolute folders of one project, and the root that messages are relative to."""

    root: Path
    specs: Path
    templates: Path
    out: Path

    @property
    def state(self) -> Path:
        """The local, uncommitted folder for the lock (and caches), as black keeps its own."""
        return self.root / ".dagsmith"

    def display(self, path: Path | str) -> str:
        """A path as users see it: relative to the project root, with `/`.

        A path outside the project (a dags folder to deploy to) stays absolute.
        """
        # String operations: this runs for every file of every run.
        absolute = os.path.normpath(os.path.join(self.root, path))
        root = os.fspath(self.root)
        if absolute == root:
            return "."
        if not absolute.startswith(root.rstrip(os.sep) + os.sep):
            return absolute.replace(os.sep, "/")
        return absolute[len(root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding pyproject.toml or .git."""
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return start


def read_settings(root: Path) -> dict[str, str]:
    """The `[tool.dagsmith]` table of the root's pyproject.toml, or nothing."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            [Problem(Position("pyproject.toml"), f"cannot read: {error}")]
        ) from None
    settings = table.get("tool", {}).get("dagsmith", {})
    unknown = sorted(set(settings) - set(DEFAULT_FOLDERS))
    wrong = [key for key, value in settings.items() if not isinstance(value, str)]
    if unknown or wrong:
        raise InputError(
            [
                Problem(
                    Position("pyproject.toml"),
                    f"[tool.dagsmith] {key}: expected one of {', '.join(DEFAULT_FOLDERS)} "
                    "set to a folder path string",
                )
                for key in unknown + wrong
            ]
        )
    return dict(settings)


def load_settings(
    cwd: Path | None = None,
    *,
    specs: str | None = None,
    templates: str | None = None,
    out: str | None = None,
) -> Settings:
    """Settings from command-line options, then `[tool.dagsmith]`, then the defaults.

    The project root is found from the specs folder when one is given, as
    black finds its root from the files it is given, so one project gives the
    same bytes from any working folder. Options are relative to the working
    folder; pyproject values to the root.
    """
    cwd = (cwd or Path.cwd()).absolute()
    root = find_root(cwd / specs if specs else cwd)
    configured = read_settings(root)
    given = {"specs": specs, "templates": templates, "out": out}
    folders = {
        name: (
            cwd / value
            if (value := given[name])
            else root / configured.get(name, default)
        )
        for name, default in DEFAULT_FOLDERS.items()
    }
    return Settings(
        root=root, **{name: Path(os.path.normpath(p)) for name, p in folders.items()}
    )
