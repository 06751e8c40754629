"""migrate/: `dagsmith import`, an old dag_creator setup built the old way becomes
specs; and the pattern matching it rests on. (dag-factory: test_dag_factory.py.)"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Project

FIXTURES = REPO / "tests/fixtures"

CLEANUP = """\
import airflow
from airflow import DAG

main_dag_id = #DAG_ID

args = {
    'owner': 'airflow',
    'start_date': airflow.utils.dates.days_ago(1),
    'provide_context': True,
}

dag = DAG(main_dag_id, default_args=args, catchup=False, schedule_interval='@once')

#? Getting Required Parameters

master_dict = #MASTER_DICT

operation = master_dict['operation_dict']
schema_id = int(master_dict['schema_id'])
"""

MODEL = """\
from airflow import DAG
dag = DAG(#DAG_ID, schedule_interval=None)
params = #MASTER_DICT
print(params["model"])
"""

OLD_FILES = {
    ("Cleanup_Dags", "Cleanup_dag_138352851250384220", "cleanup_dag"): {
        "operation_dict": {22: [4]},
        "values_dict": {22: [""]},
        "schema_id": "1",
        "dataset_id": "6",
    },
    ("Cleanup_Dags", "Cleanup_dag_2", "cleanup_dag"): {
        "operation_dict": {},
        "values_dict": {},
        "schema_id": 2,
        "project_id": 7,
        "note": 'it\'s "quoted"\nand multi-line',
    },
    ("Models", "model_dag_1", "model_dag"): {
        "model": "xgb",
        "threshold": 0.25,
        "on": None,
    },
}


def dag_creator(template: str, dag_id: str, master_dict: dict[str, Any]) -> str:
    """What the old dag_creator wrote: plain string replacement with str()."""
    return template.replace("#DAG_ID", f'"{dag_id}"').replace(
        "#MASTER_DICT", str(master_dict)
    )


@pytest.fixture
def old(empty_project: Project) -> Path:
    root = empty_project.root / "old"
    (root / "templates").mkdir(parents=True)
    (root / "templates/cleanup_dag.template").write_text(CLEANUP)
    (root / "templates/model_dag.template").write_text(MODEL)
    for (namespace, dag_id, template), master_dict in OLD_FILES.items():
        source = {"cleanup_dag": CLEANUP, "model_dag": MODEL}[template]
        path = root / "dynamic_dags" / namespace / f"{dag_id}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dag_creator(source, dag_id, master_dict))
    (root / "dynamic_dags/Models/hand_written.py").write_text(
        "from airflow import DAG\n"
    )
    (root / "dynamic_dags/Models/computed.py").write_text(
        MODEL.replace("#DAG_ID", '"computed"').replace(
            "#MASTER_DICT", "dict(model='x')"
        )
    )
    return root


def test_import_then_generate_reproduces_every_old_dag(
    empty_project: Project, old: Path
) -> None:
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert result.exit_code == 1  # two files were left alone
    assert (
        "old/dynamic_dags/Models/hand_written.py:1:1: left alone: matches no template"
        in (result.stderr)
    )
    assert (
        "old/dynamic_dags/Models/computed.py:1:1: left alone: holds a value that is not"
        in (result.stderr)
    )
    assert "wrote 5 files; 2 left alone" in result.stderr
    spec = yaml.safe_load(
        (
            empty_project.root
            / "specs/Cleanup_Dags/Cleanup_dag_138352851250384220.yaml"
        ).read_text()
    )
    assert spec == {
        "dag_id": "Cleanup_dag_138352851250384220",
        "template": "cleanup_dag",
        "namespace": "Cleanup_Dags",
        "master_dict": OLD_FILES[
            ("Cleanup_Dags", "Cleanup_dag_138352851250384220", "cleanup_dag")
        ],
    }
    # Copied in black's layout, its tokens where they were.
    copied = (empty_project.root / "templates/cleanup_dag.template").read_text()
    assert '    "owner": "airflow",\n' in copied
    assert "main_dag_id = #DAG_ID\n" in copied
    assert "master_dict = #MASTER_DICT\n" in copied

    assert empty_project.run("generate").exit_code == 0
    for namespace, dag_id, _ in OLD_FILES:
        old_file = old / "dynamic_dags" / namespace / f"{dag_id}.py"
        new_file = empty_project.root / "generated_dags" / namespace / f"{dag_id}.py"
        assert ast.dump(ast.parse(new_file.read_text())) == ast.dump(
            ast.parse(old_file.read_text())
        ), dag_id


def test_dry_run_writes_nothing(empty_project: Project, old: Path) -> None:
    result = empty_project.run(
        "import", "old/templates", "old/dynamic_dags", "--dry-run"
    )
    assert (
        "spec      specs/Models/model_dag_1.yaml  (from old/dynamic_dags/Models/"
        in (result.stdout)
    )
    assert "template  templates/model_dag.template" in result.stdout
    assert "would write 5 files" in result.stderr
    assert not list((empty_project.root / "specs").iterdir())


def test_a_file_that_matches_two_templates_is_left_alone(
    empty_project: Project, old: Path
) -> None:
    (old / "templates/model_copy.template").write_text(MODEL)
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert (
        "model_dag_1.py:1:1: left alone: matches 2 templates: model_copy, model_dag"
        in (result.stderr)
    )


def test_existing_specs_are_not_overwritten(empty_project: Project, old: Path) -> None:
    empty_project.write("specs/Models/model_dag_1.yaml", "# mine\n")
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert "left alone: specs/Models/model_dag_1.yaml exists" in result.stderr
    assert (
        empty_project.root / "specs/Models/model_dag_1.yaml"
    ).read_text() == "# mine\n"


def test_a_template_that_is_not_python_is_an_input_error(
    empty_project: Project, old: Path
) -> None:
    (old / "templates/broken.template").write_text("def (:\n#DAG_ID\n")
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert result.exit_code == 2
    assert (
        "old/templates/broken.template:1:1: is not Python once its tokens are holes"
        in (result.stderr)
    )


def test_a_different_template_of_the_same_name_is_not_overwritten(
    empty_project: Project, old: Path
) -> None:
    empty_project.write("templates/model_dag.template", "# ours\n")
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert result.exit_code == 1
    assert (
        "templates/model_dag.template:1:1: exists and differs; not copied"
        in result.stderr
    )
    assert (
        empty_project.root / "templates/model_dag.template"
    ).read_text() == "# ours\n"


def test_import_reports_how_each_file_regenerates(
    empty_project: Project, old: Path
) -> None:
    # A function whose docstring black re-indents: the only kind of difference.
    indented = MODEL + 'def helper():\n    """One line.\n\n        Indented more."""\n'
    (old / "templates/model_dag.template").write_text(indented)
    (old / "dynamic_dags/Models/model_dag_1.py").write_text(
        dag_creator(indented, "model_dag_1", {"model": "xgb"})
    )
    result = empty_project.run(
        "import", "old/templates", "old/dynamic_dags", "--dry-run"
    )
    lines = result.stdout.splitlines()
    model = next(line for line in lines if "specs/Models/model_dag_1.yaml" in line)
    assert model.endswith(
        "template model_dag; regenerates with the same AST but docstring indentation)"
    )
    cleanup = next(line for line in lines if "Cleanup_dag_2.yaml" in line)
    assert cleanup.endswith("template cleanup_dag; regenerates with the same AST)")


def test_import_writes_all_or_nothing(
    empty_project: Project, old: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagsmith import write

    staged = []
    real_stage = write.stage

    def failing_stage(path: Path, content: bytes) -> Path:
        if len(staged) == 3:
            raise OSError(28, "No space left on device")
        staged.append(path)
        return real_stage(path, content)

    monkeypatch.setattr(write, "stage", failing_stage)
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert result.exit_code == 1
    assert "cannot write: No space left on device" in result.stderr
    assert len(staged) == 3  # three files were staged, then the fourth failed
    left = [p for p in empty_project.root.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(old) or p.name == "pyproject.toml" for p in left), left


def test_a_file_where_a_namespace_folder_goes_is_an_input_error(
    empty_project: Project, old: Path
) -> None:
    (empty_project.root / "specs/Models").write_text("not a folder\n")
    result = empty_project.run("import", "old/templates", "old/dynamic_dags")
    assert result.exit_code == 2
    assert (
        "specs/Models/model_dag_1.yaml:1:1: specs/Models is a file, so its folder "
        "cannot be made; move it away"
    ) in result.stderr
    assert "Traceback" not in result.output
    assert not (empty_project.root / "templates/cleanup_dag.template").exists()


# The wiki's template, trailing spaces and all: what every old setup started from.
SEED = (FIXTURES / "dag_creator/cleanup_dag.template").read_text()
SEED_DAGS = {
    "Cleanup_dag_138352851250384220": {
        "operation_dict": {22: [4]},
        "values_dict": {22: [""]},
        "schema_id": "1",
        "dataset_id": "6",
    },
    "Cleanup_dag_short": {"operation_dict": {}, "values_dict": {}},
    "Cleanup_dag_wide": {
        "operation_dict": {n: [1, 2, 3, 4, 5] for n in range(12)},
        "values_dict": {n: ["fill", "", "x" * 70] for n in range(3)},
    },
}


def test_the_seed_template_is_copied_in_blacks_layout_and_renders_the_same_bytes(
    empty_project: Project,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import black
    from dagsmith.format import mode
    from dagsmith.tokens import fill_tokens

    old = empty_project.root / "old"
    empty_project.write("old/templates/cleanup_dag.template", SEED)
    for dag_id, master_dict in SEED_DAGS.items():
        empty_project.write(
            f"old/dags/Cleanup_Dags/{dag_id}.py",
            dag_creator(SEED, dag_id, master_dict),
        )
    imported = empty_project.run("import", str(old / "templates"), str(old / "dags"))
    assert imported.exit_code == 0, imported.output
    assert (
        "template  templates/cleanup_dag.template  (in black's layout: one black "
        "pass a DAG)" in imported.stdout
    )
    copied = empty_project.read("templates/cleanup_dag.template")
    assert copied != SEED
    # Each DAG renders to text black keeps as it is: one black pass, not two.
    for dag_id, master_dict in SEED_DAGS.items():
        rendered = fill_tokens(copied, dag_id, master_dict)
        assert black.format_str(rendered, mode=mode()) == rendered, dag_id
    assert empty_project.run("generate").exit_code == 0

    # The same specs on the template as it was give the very same bytes.
    other = Project(tmp_path_factory.mktemp("as-it-was"))
    shutil.copytree(empty_project.root / "specs", other.root / "specs")
    other.write("templates/cleanup_dag.template", SEED)
    other.write("pyproject.toml", "[tool.dagsmith]\n")
    monkeypatch.chdir(other.root)
    assert other.run("generate").exit_code == 0
    ours = sorted((empty_project.root / "generated_dags").rglob("*.py"))
    theirs = sorted((other.root / "generated_dags").rglob("*.py"))
    assert [p.relative_to(empty_project.root) for p in ours] == [
        p.relative_to(other.root) for p in theirs
    ]
    assert len(ours) == len(SEED_DAGS)
    for mine, its in zip(ours, theirs, strict=True):
        assert without_inputs_digest(mine) == without_inputs_digest(its), mine.name


def without_inputs_digest(path: Path) -> str:
    """A generated file, byte for byte but the header's digest of its inputs."""
    return re.sub(r"inputs=\w+", "inputs=…", path.read_text())


OLD_TEMPLATE = "from airflow import DAG\ndag = DAG(#DAG_ID)\nMASTER = #MASTER_DICT\n"


def old_file(text: str) -> Any:
    from dagsmith.migrate.dag_creator import import_file, pattern

    made = pattern("report", OLD_TEMPLATE)
    assert not isinstance(made, str)
    return import_file("old/R/r.py", "R", text, {"report": made})


def test_a_file_that_fills_the_holes_gives_its_values_exactly() -> None:
    imported = old_file(
        "from airflow import DAG\ndag = DAG('r_1')\nMASTER = {22: [4], 'k': None}\n"
    )
    assert (imported.dag_id, imported.template) == ("r_1", "report")
    assert imported.master_dict == {22: [4], "k": None}
    assert imported.problem is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dag = DAG('r_1'\n", "is not Python: '(' was never closed"),
        ("x = 1\n", "matches no template"),
        (
            "from airflow import DAG\ndag = DAG(7)\nMASTER = {}\n",
            "its dag_id is not a string: 7",
        ),
        (
            "from airflow import DAG\ndag = DAG('r')\nMASTER = [1]\n",
            "its master_dict is not a dict",
        ),
        (
            "from airflow import DAG\ndag = DAG('r')\nMASTER = {'a': f()}\n",
            "holds a value that is not a literal",
        ),
    ],
)
def test_a_file_that_does_not_fit_says_why(text: str, problem: str) -> None:
    assert old_file(text).problem == problem


def test_a_template_that_is_not_python_once_its_tokens_are_holes() -> None:
    from dagsmith.migrate.dag_creator import pattern

    said = pattern("bad", "dag = DAG(#DAG_ID\n")
    assert isinstance(said, str)
    assert said.startswith("is not Python once its tokens are holes")
