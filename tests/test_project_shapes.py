"""One project, one set of bytes, in every shape of project and however dagsmith
is called: the root rule of config.find_root, through the commands that write."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from dagsmith.cli import main

HELLO = """\
from datetime import datetime

from airflow.sdk import DAG, task

with DAG({{ dag_id }}, schedule={{ master_dict.schedule }}, start_date=datetime(2026, 1, 1)):

    @task
    def greet():
        print({{ "hello, " ~ master_dict.who }})

    greet()
"""
HELLO_CONTRACT = """\
type: object
required: [who, schedule]
properties:
  who: {type: string, default: world}
  schedule: {type: [string, "null"], default: "@daily"}
"""
HELLO_SPEC = """\
dag_id: hello_world
template: hello
namespace: examples
master_dict: {who: team, schedule: "@daily"}
"""
OLD_TEMPLATE = "from airflow import DAG\ndag = DAG(#DAG_ID)\nparams = #MASTER_DICT\n"
OLD_DAG = OLD_TEMPLATE.replace("#DAG_ID", "'report_0'").replace(
    "#MASTER_DICT", "{'tenant': 'acme', 'days': 7}"
)


@dataclass(frozen=True)
class Shape:
    """Where the project folder sits, and what surrounds it."""

    project: str
    files: dict[str, str]


SHAPES = {
    "plain folder": Shape("p", {}),
    "pyproject.toml with [tool.dagsmith]": Shape(
        "p", {"p/pyproject.toml": "[tool.dagsmith]\n"}
    ),
    "pyproject.toml of other tools": Shape(
        "p", {"p/pyproject.toml": "[tool.black]\nline-length = 88\n"}
    ),
    "git repository": Shape("p", {"p/.git/HEAD": "ref: refs/heads/main\n"}),
    "folder in a git repository": Shape(
        "repo/airflow", {"repo/.git/HEAD": "ref: refs/heads/main\n"}
    ),
    "folder with pyproject.toml in a git repository": Shape(
        "repo/airflow",
        {
            "repo/.git/HEAD": "ref: refs/heads/main\n",
            "repo/airflow/pyproject.toml": "[tool.dagsmith]\n",
        },
    ),
    "folder in a git repository with another project's pyproject.toml": Shape(
        "repo/airflow",
        {
            "repo/.git/HEAD": "ref: refs/heads/main\n",
            "repo/pyproject.toml": '[project]\nname = "service"\n',
        },
    ),
}


@dataclass(frozen=True)
class Call:
    """A way to call dagsmith on a project: a working folder, and the options."""

    name: str
    cwd: Callable[[Path], Path]
    options: Callable[[Path, Path], tuple[str, ...]]


def folders(project: Path, cwd: Path) -> tuple[str, ...]:
    """--specs, --templates and --out, relative to the working folder."""
    return tuple(
        part
        for flag, name in (
            ("--specs", "specs"),
            ("--templates", "templates"),
            ("--out", "generated_dags"),
        )
        for part in (flag, str(relative(project / name, cwd)))
    )


def relative(path: Path, start: Path) -> Path:
    """`path` from `start`, with .. where needed (`/` keeps it absolute)."""
    if start == Path("/"):
        return path
    return Path(*[".."] * len(start.parts[len(common(path, start).parts) :])) / (
        path.relative_to(common(path, start))
    )


def common(a: Path, b: Path) -> Path:
    """The deepest folder that holds both."""
    shared = [x for x, y in zip(a.parts, b.parts, strict=False) if x == y]
    return Path(*shared)


CALLS = [
    Call("defaults, inside", lambda p: p, lambda p, cwd: ()),
    Call("defaults, in a subfolder", lambda p: p / "templates", lambda p, cwd: ()),
    Call("explicit folders, from /", lambda p: Path("/"), folders),
    Call("explicit folders, from a sibling", lambda p: p.parent / "sibling", folders),
]


def dagsmith(
    monkeypatch: pytest.MonkeyPatch, project: Path, call: Call, *args: str
) -> Result:
    """Run `dagsmith ARGS` the way `call` says; never a traceback or exit 3."""
    cwd = call.cwd(project)
    cwd.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, [*args, *call.options(project, cwd)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        call.name,
        result.output,
    )
    assert "Traceback" not in result.output
    assert result.exit_code != 3, (call.name, result.output)
    return result


def make(base: Path, shape: Shape) -> Path:
    """A fresh project of the shape under `base`: hello's template and contract,
    an empty specs/ folder."""
    if base.exists():
        shutil.rmtree(base)
    for relative_path, text in shape.files.items():
        write(base / relative_path, text)
    project = base / shape.project
    write(project / "templates/hello.py.j2", HELLO)
    write(project / "templates/hello.schema.yaml", HELLO_CONTRACT)
    (project / "specs").mkdir(parents=True)
    return project


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def headers_hold_no_absolute_path(outputs: dict[str, bytes], base: Path) -> None:
    for path, content in outputs.items():
        head = content.decode().splitlines()[:2]
        assert not any(str(base) in line or " /" in line for line in head), (
            path,
            head,
        )


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_generate_gives_one_set_of_bytes_however_it_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Shape
) -> None:
    seen = {}
    for call in CALLS:
        project = make(tmp_path / "case", shape)
        write(project / "specs/examples/hello_world.yaml", HELLO_SPEC)
        result = dagsmith(monkeypatch, project, call, "generate")
        assert result.exit_code == 0, (call.name, result.output)
        seen[call.name] = tree(project / "generated_dags")
        headers_hold_no_absolute_path(seen[call.name], tmp_path)
        assert b"from specs/examples/hello_world.yaml" in (
            seen[call.name]["examples/hello_world.py"]
        )
        for checker in CALLS:
            checked = dagsmith(monkeypatch, project, checker, "check")
            assert checked.exit_code == 0, (call.name, checker.name, checked.output)
        assert not (project / "specs/.dagsmith").exists()
        assert (project / ".dagsmith").is_dir()
    first = seen[CALLS[0].name]
    assert all(outputs == first for outputs in seen.values())


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_new_writes_the_same_spec_however_it_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Shape
) -> None:
    seen = {}
    for call in CALLS:
        project = make(tmp_path / "case", shape)
        args = ("new", "hello", "hello_team", "--namespace", "examples")
        result = dagsmith(monkeypatch, project, call, *args)
        assert result.exit_code == 0, (call.name, result.output)
        assert "wrote specs/examples/hello_team.yaml" in result.stderr
        seen[call.name] = tree(project / "specs")
        assert list(seen[call.name]) == ["examples/hello_team.yaml"]
    assert len({tuple(files.items()) for files in seen.values()}) == 1


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_import_writes_the_same_files_however_it_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Shape
) -> None:
    old = tmp_path / "old"
    write(old / "templates/report.template", OLD_TEMPLATE)
    write(old / "dags/Reports/report_0.py", OLD_DAG)
    seen = {}
    for call in CALLS:
        project = make(tmp_path / "case", shape)
        args = ("import", str(old / "templates"), str(old / "dags"))
        result = dagsmith(monkeypatch, project, call, *args)
        assert result.exit_code == 0, (call.name, result.output)
        assert "specs/Reports/report_0.yaml" in result.stdout
        seen[call.name] = {**tree(project / "specs"), **tree(project / "templates")}
        assert "Reports/report_0.yaml" in seen[call.name]
        assert dagsmith(monkeypatch, project, call, "generate").exit_code == 0
        assert dagsmith(monkeypatch, project, CALLS[0], "check").exit_code == 0
    assert len({tuple(files.items()) for files in seen.values()}) == 1
