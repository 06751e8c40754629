"""Where the project's folders are: `[tool.dagsmith]` in pyproject.toml."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .model import InputError, OptionError, Position, Problem

DEFAULT_FOLDERS = {"specs": "specs", "templates": "templates", "out": "generated_dags"}
ENVIRONMENTS = "environments"
T = TypeVar("T")
# An environment's name is a folder of the output: a lowercase word.
ENVIRONMENT_NAME = r"[a-z][a-z0-9_-]{0,39}"
ENVIRONMENT_RULE = "lowercase letters, digits, '_' and '-', starting with a letter"


@dataclass(frozen=True)
class Settings:
    """Absolute folders of one project, and the root that messages are relative to."""

    root: Path
    specs: Path
    templates: Path
    out: Path
    # The declared environments, in order; none when the project has none.
    environments: tuple[str, ...] = ()

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

    def environment(self, name: str | None) -> str | None:
        """An environment a command was given (`--env`), once it is known to be
        declared; InputError naming the declared ones when it is not."""
        if name is None or name in self.environments:
            return name
        where = Position("--env", 0)
        if not self.environments:
            message = "this project declares no environments"
        else:
            declared = ", ".join(self.environments)
            message = (
                f"{name!r} is not a declared environment (pyproject.toml declares "
                f"{declared})"
            )
        raise OptionError([Problem(where, message)])

    def pick(
        self,
        name: str,
        environment: str | None,
        candidates: Iterable[tuple[T, str, str, str]],
    ) -> list[T]:
        """What a command's DAG_ID_OR_SPEC and --env name, among candidates
        (item, dag_id, spec file, environment): the DAGs of that dag_id or spec
        file, in that environment. OptionError when --env is not declared, or
        is missing and the DAG is in several."""
        environment = self.environment(environment)
        shown = self.display(Path(name)) if Path(name).exists() else None
        found = [
            (item, env)
            for item, dag_id, path, env in candidates
            if name in (dag_id, path) or path == shown
        ]
        listed = [e for e in self.environments if e in {env for _, env in found}]
        if environment is None and len(listed) > 1:
            choices = " or ".join(f"--env {e}" for e in listed)
            message = f"{name} is in {' and '.join(listed)}; choose one: {choices}"
            raise OptionError([Problem(Position("--env", 0), message)])
        return [item for item, env in found if environment in (None, env)]


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding pyproject.toml or .git."""
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return start


def read_settings(root: Path) -> dict[str, object]:
    """The `[tool.dagsmith]` table of the root's pyproject.toml, or nothing."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        text = pyproject.read_text(encoding="utf-8")
        table = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            [Problem(Position("pyproject.toml"), f"cannot read: {error}")]
        ) from None
    settings = table.get("tool", {}).get("dagsmith", {})
    problems = [
        Problem(
            _line_of(text, key),
            f"[tool.dagsmith] {key}: expected one of "
            f"{', '.join([*DEFAULT_FOLDERS, ENVIRONMENTS])} "
            "(a folder path string, or a list of environment names)",
        )
        for key, value in settings.items()
        if key != ENVIRONMENTS
        and (key not in DEFAULT_FOLDERS or not isinstance(value, str))
    ]
    if ENVIRONMENTS in settings:
        problems += _environment_problems(
            settings[ENVIRONMENTS], _line_of(text, ENVIRONMENTS)
        )
    if problems:
        raise InputError(problems)
    return dict(settings)


def _line_of(text: str, key: str) -> Position:
    """Where `key = ...` is written in pyproject.toml's [tool.dagsmith] table."""
    table = re.search(r"^[ \t]*\[tool\.dagsmith\]", text, re.MULTILINE)
    line = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=", re.MULTILINE)
    found = line.search(text, table.end() if table else 0)
    if found is None:
        return Position("pyproject.toml")
    return Position("pyproject.toml", text.count("\n", 0, found.start()) + 1)


def _environment_problems(value: object, where: Position) -> list[Problem]:
    """What is wrong with `environments = [...]`: it must list distinct names."""
    rule = (
        f"[tool.dagsmith] environments: expected a list of distinct names "
        f'({ENVIRONMENT_RULE}), like ["dev", "prod"]'
    )
    if not isinstance(value, list) or not value:
        return [Problem(where, f"{rule}; got {value!r}")]
    bad = [
        v
        for v in value
        if not (isinstance(v, str) and re.fullmatch(ENVIRONMENT_NAME, v))
    ]
    twice = sorted({v for v in value if isinstance(v, str) and value.count(v) > 1})
    return [Problem(where, f"{rule}; {v!r} is not one") for v in bad] + [
        Problem(where, f"{rule}; {v!r} is listed twice") for v in twice
    ]


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
            else root / str(configured.get(name, default))
        )
        for name, default in DEFAULT_FOLDERS.items()
    }
    listed = configured.get(ENVIRONMENTS, [])  # read_settings checked it
    environments = tuple(map(str, listed)) if isinstance(listed, list) else ()
    return Settings(
        root=root,
        **{name: Path(os.path.normpath(p)) for name, p in folders.items()},
        environments=environments,
    )
