"""Where the project's folders are: `[tool.dagsmith]` in pyproject.toml."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from .addresses import (
    AIRFLOW_URL,
    CREDENTIAL_KEY,
    AirflowAddress,
    airflow_addresses,
    airflow_problems,
    credential_problem,
)
from .errors import InputError, OptionError, Position, Problem
from .tomlpos import line_of

DEFAULT_FOLDERS = {"specs": "specs", "templates": "templates", "out": "generated_dags"}
ENVIRONMENTS = "environments"
T = TypeVar("T")


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """Something a command's DAG_ID_OR_SPEC may name: a DAG of a spec file, in
    an environment ("" without environments)."""

    item: T
    dag_id: str
    spec: str
    environment: str


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
    # Each environment's Airflow ([tool.dagsmith] airflow_url), if it says.
    airflow: tuple[AirflowAddress, ...] = ()
    # What marked the root (see Root), and which folders the command line
    # gave or [tool.dagsmith] set: said when a folder is not found.
    marker: str = "pyproject.toml"
    given: frozenset[str] = frozenset()
    configured: frozenset[str] = frozenset()

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

    def not_found(self, name: str) -> Problem:
        """The problem of a folder (`specs`, `templates`) that is not there:
        where dagsmith looked, and why there."""
        where = Position(self.display(getattr(self, name)) + "/", 0)
        if name in self.given:
            return Problem(where, f"not found (given by --{name})")
        pyproject = self.root / "pyproject.toml"
        if name in self.configured:
            return Problem(
                where,
                f"not found ([tool.dagsmith] {name} in {pyproject} names it); "
                f"fix the setting, or pass --{name}",
            )
        default = DEFAULT_FOLDERS[name]
        look_elsewhere = (
            f"run dagsmith in the folder that holds {default}/, "
            "add a pyproject.toml with [tool.dagsmith]"
        )
        why, advice = {
            "pyproject.toml": (
                f"marked by {pyproject} with [tool.dagsmith]",
                f"create {default}/ there, set [tool.dagsmith] {name}",
            ),
            ".git": (f"marked by {self.root / '.git'}", look_elsewhere),
            "": (
                "the working folder: nothing at or above it holds specs/, .git or "
                "a pyproject.toml with [tool.dagsmith]",
                look_elsewhere,
            ),
        }.get(
            self.marker,
            (
                f"the folder that holds {self.marker}",
                f"create {default}/ beside {self.marker}, set [tool.dagsmith] {name}",
            ),
        )
        return Problem(
            where,
            f"not found in {self.root} (the project root, {why}); {advice}, "
            f"or pass --{name}",
        )

    def airflow_address(self, environment: str | None) -> AirflowAddress | None:
        """The Airflow of an environment (or of the project), if pyproject.toml names it."""
        for address in self.airflow:
            if address.environment in ("", environment):
                return address
        return None

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
        candidates: Iterable[Candidate[T]],
    ) -> list[T]:
        """What a command's DAG_ID_OR_SPEC and --env name, among candidates:
        the DAGs of that dag_id or spec file, in that environment. OptionError
        when --env is not declared, or is missing and the DAG is in several."""
        environment = self.environment(environment)
        shown = self.display(Path(name)) if Path(name).exists() else None
        found = [
            (c.item, c.environment)
            for c in candidates
            if name in (c.dag_id, c.spec) or c.spec == shown
        ]
        listed = [e for e in self.environments if e in {env for _, env in found}]
        if environment is None and len(listed) > 1:
            choices = " or ".join(f"--env {e}" for e in listed)
            message = f"{name} is in {' and '.join(listed)}; choose one: {choices}"
            raise OptionError([Problem(Position("--env", 0), message)])
        return [item for item, env in found if environment in (None, env)]


@dataclass(frozen=True)
class Root:
    """The project root, and what in it marked it as the root."""

    folder: Path
    # "pyproject.toml" (with [tool.dagsmith]), the specs folder's name and a
    # slash, ".git", or "" for the working folder when nothing marked one.
    marker: str
    # The text of its pyproject.toml, when that marked it.
    pyproject: str | None = None


def find_root(start: Path, *, specs_given: bool = False) -> Root:
    """The project root of a run that starts at `start`: the --specs folder
    when it is given, else the working folder.

    The nearest pyproject.toml with a [tool.dagsmith] table wins. Without one,
    the root is the folder that holds the specs folder: the parent of --specs,
    or the nearest folder at or above the working folder that holds specs/.
    A folder that holds .git is a boundary: nothing above it is looked at.
    """
    start = Path(os.path.normpath(start.absolute()))
    folders = _up_to_boundary(start)
    for folder in folders:
        text = _dagsmith_pyproject(folder / "pyproject.toml")
        if text is not None:
            return Root(folder, "pyproject.toml", text)
    if specs_given:
        return Root(start.parent, f"{start.name}/")
    for folder in folders:
        if (folder / DEFAULT_FOLDERS["specs"]).is_dir():
            return Root(folder, f"{DEFAULT_FOLDERS['specs']}/")
    if (folders[-1] / ".git").exists():
        return Root(folders[-1], ".git")
    return Root(start, "")


def _up_to_boundary(start: Path) -> list[Path]:
    """`start` and the folders above it, up to the first that holds .git."""
    folders = []
    for folder in (start, *start.parents):
        folders.append(folder)
        if (folder / ".git").exists():
            break
    return folders


def _dagsmith_pyproject(path: Path) -> str | None:
    """The text of a pyproject.toml that has a [tool.dagsmith] table, or None.

    A file that never names dagsmith is not parsed: it belongs to other tools.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            [Problem(Position(str(path)), f"cannot read: {error}")]
        ) from None
    if "dagsmith" not in text:
        return None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            [Problem(Position(str(path)), f"cannot read: {error}")]
        ) from None
    tool = table.get("tool")
    return text if isinstance(tool, dict) and "dagsmith" in tool else None


def read_settings(root: Root) -> dict[str, object]:
    """The `[tool.dagsmith]` table of the root's pyproject.toml, or nothing."""
    if root.pyproject is None:
        return {}
    text = root.pyproject
    settings = tomllib.loads(text)["tool"]["dagsmith"]  # find_root parsed it
    if not isinstance(settings, dict):
        raise InputError(
            [Problem(Position("pyproject.toml"), "[tool.dagsmith]: expected a table")]
        )
    problems = [
        _unknown(text, key)
        for key, value in settings.items()
        if key not in (ENVIRONMENTS, AIRFLOW_URL)
        and (key not in DEFAULT_FOLDERS or not isinstance(value, str))
    ]
    if ENVIRONMENTS in settings:
        problems += _environment_problems(
            settings[ENVIRONMENTS], line_of(text, ENVIRONMENTS)
        )
    if AIRFLOW_URL in settings:
        problems += airflow_problems(
            text, settings[AIRFLOW_URL], settings.get(ENVIRONMENTS)
        )
    if problems:
        raise InputError(problems)
    return dict(settings)


def _unknown(text: str, key: str) -> Problem:
    """A key [tool.dagsmith] does not have; a credential is told where it goes."""
    if CREDENTIAL_KEY.search(key):
        return credential_problem(line_of(text, key), key)
    return Problem(
        line_of(text, key),
        f"[tool.dagsmith] {key}: expected one of "
        f"{', '.join([*DEFAULT_FOLDERS, ENVIRONMENTS, AIRFLOW_URL])} "
        "(a folder path string, a list of environment names, or Airflow's address)",
    )


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

    The project root comes from `find_root`, so one project gives the same
    bytes from any working folder, with its folders given or defaulted.
    Options are relative to the working folder; pyproject values to the root.
    """
    cwd = (cwd or Path.cwd()).absolute()
    root = find_root(cwd / specs if specs else cwd, specs_given=bool(specs))
    configured = read_settings(root)
    given = {"specs": specs, "templates": templates, "out": out}
    folders = {
        name: Path(
            os.path.normpath(
                cwd / value
                if (value := given[name])
                else root.folder / str(configured.get(name, default))
            )
        )
        for name, default in DEFAULT_FOLDERS.items()
    }
    if not folders["specs"].is_relative_to(root.folder):
        # Headers name each spec relative to the root: never an absolute path.
        raise InputError(
            [
                Problem(
                    line_of(root.pyproject or "", "specs"),
                    f"[tool.dagsmith] specs: {configured['specs']} is outside the "
                    f"project ({root.folder}); keep the specs folder inside it",
                )
            ]
        )
    listed = configured.get(ENVIRONMENTS, [])  # read_settings checked it
    environments = tuple(map(str, listed)) if isinstance(listed, list) else ()
    return Settings(
        root=root.folder,
        **folders,
        environments=environments,
        airflow=airflow_addresses(root.pyproject or "", configured.get(AIRFLOW_URL)),
        marker=root.marker,
        given=frozenset(name for name, value in given.items() if value),
        configured=frozenset(configured) & frozenset(DEFAULT_FOLDERS),
    )
