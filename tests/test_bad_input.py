"""Every class of bad input: exit 2, `file:line` in the message, no traceback, nothing written."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from conftest import Project

GOOD = """\
dag_id: good_dag
template: etl_tables
namespace: etl
master_dict:
  source: sales_db
  schedule: null
  tables:
    - {name: orders, key: order_id}
"""

ENVIRONMENTS = '[tool.dagsmith]\nenvironments = ["dev", "prod"]\n'
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
TASKS_SPEC = """\
dag_id: declared
template: dagsmith/tasks
namespace: declared
master_dict:
  start_date: "2026-01-01"
  tasks:
"""


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str | bytes]
    where: str
    message: str
    setup: Callable[[Project], None] | None = field(default=None)


def symlink_outside(project: Project) -> None:
    outside = project.root.parent / f"{project.root.name}-outside.yaml"
    outside.write_text(GOOD)
    os.symlink(outside, project.root / "specs/linked.yaml")


CASES = [
    Case(
        "yaml syntax",
        {"specs/bad.yaml": GOOD.replace("namespace: etl", "namespace: [etl")},
        "specs/bad.yaml:4:",
        "invalid YAML",
    ),
    Case(
        "yaml indentation",
        {"specs/bad.yaml": GOOD.replace("  source:", " source:")},
        "specs/bad.yaml:6:",
        "invalid YAML",
    ),
    Case(
        "duplicate key",
        {"specs/bad.yaml": GOOD + "dag_id: other\n"},
        "specs/bad.yaml:9:1",
        "duplicate key 'dag_id' (first at line 1)",
    ),
    Case(
        "duplicate nested key",
        {"specs/bad.yaml": GOOD.replace("  schedule: null", "  source: x")},
        "specs/bad.yaml:6:3",
        "duplicate key 'source'",
    ),
    Case(
        "python object tag",
        {
            "specs/bad.yaml": GOOD.replace(
                "sales_db", "!!python/object/apply:os.system ['true']"
            )
        },
        "specs/bad.yaml:5:",
        "no tags that build Python objects",
    ),
    Case(
        "missing dag_id",
        {"specs/bad.yaml": GOOD.replace("dag_id: good_dag", "# no id")},
        "specs/bad.yaml:2:1",
        "missing required key 'dag_id'",
    ),
    Case(
        "missing master_dict",
        {"specs/bad.yaml": "\n".join(GOOD.splitlines()[:3]) + "\n"},
        "specs/bad.yaml:1:1",
        "missing required key 'master_dict'",
    ),
    Case(
        "unknown key",
        {"specs/bad.yaml": GOOD + "shedule: '@daily'\n"},
        "specs/bad.yaml:9:1",
        "unknown key 'shedule'",
    ),
    Case(
        "typo of a key",
        {"specs/bad.yaml": GOOD.replace("dag_id:", "dagid:")},
        "specs/bad.yaml:1:1",
        "did you mean 'dag_id'?",
    ),
    Case(
        "dag_id with a space",
        {"specs/bad.yaml": GOOD.replace("good_dag", "good dag")},
        "specs/bad.yaml:1:9",
        "dag_id: 'good dag' is not valid",
    ),
    Case(
        "dag_id too long",
        {"specs/bad.yaml": GOOD.replace("good_dag", "d" * 251)},
        "specs/bad.yaml:1:9",
        "at most 250",
    ),
    Case(
        "dag_id hidden file",
        {"specs/bad.yaml": GOOD.replace("good_dag", ".hidden")},
        "specs/bad.yaml:1:9",
        "not starting with '.'",
    ),
    Case(
        "dag_id path",
        {"specs/bad.yaml": GOOD.replace("good_dag", "../../evil")},
        "specs/bad.yaml:1:9",
        "dag_id: '../../evil' is not valid",
    ),
    Case(
        "dag_id trailing newline",
        {"specs/bad.yaml": GOOD.replace("good_dag", '"good_dag\\n"')},
        "specs/bad.yaml:1:9",
        "is not valid",
    ),
    Case(
        "dag_id not a string",
        {"specs/bad.yaml": GOOD.replace("good_dag", "12")},
        "specs/bad.yaml:1:9",
        "dag_id: expected a string, got an integer",
    ),
    Case(
        "namespace escapes",
        {"specs/bad.yaml": GOOD.replace("namespace: etl", "namespace: ../../etc")},
        "specs/bad.yaml:3:12",
        "a name, never a path",
    ),
    Case(
        "namespace absolute",
        {"specs/bad.yaml": GOOD.replace("namespace: etl", "namespace: /etc")},
        "specs/bad.yaml:3:12",
        "a name, never a path",
    ),
    Case(
        "namespace dot-dot",
        {"specs/bad.yaml": GOOD.replace("namespace: etl", "namespace: '..'")},
        "specs/bad.yaml:3:12",
        "a name, never a path",
    ),
    Case(
        "template escapes",
        {
            "specs/bad.yaml": GOOD.replace(
                "template: etl_tables", "template: ../etc/passwd"
            )
        },
        "specs/bad.yaml:2:11",
        "a name, never a path",
    ),
    Case(
        "unknown template",
        {"specs/bad.yaml": GOOD.replace("template: etl_tables", "template: nope")},
        "specs/bad.yaml:2:11",
        "unknown template 'nope'",
    ),
    Case(
        "template with extension",
        {
            "specs/bad.yaml": GOOD.replace(
                "template: etl_tables", "template: etl_tables.py.j2"
            )
        },
        "specs/bad.yaml:2:11",
        "write the name without its extension: template: etl_tables",
    ),
    Case(
        "master_dict a list",
        {
            "specs/bad.yaml": "\n".join(GOOD.splitlines()[:3])
            + "\nmaster_dict: [1, 2]\n"
        },
        "specs/bad.yaml:4:14",
        "master_dict: expected a mapping, got a list",
    ),
    Case(
        "document a list",
        {"specs/bad.yaml": "- dag_id: x\n"},
        "specs/bad.yaml:1:1",
        "a spec is a mapping of dag_id, template, namespace, master_dict",
    ),
    Case(
        "clash of dag_ids",
        {
            "specs/a.yaml": GOOD,
            "specs/b.yaml": GOOD.replace("namespace: etl", "namespace: other"),
        },
        "specs/b.yaml:1:9",
        "dag_id 'good_dag' is already used by specs/a.yaml:1:9",
    ),
    Case(
        "clash of outputs by case",
        {"specs/a.yaml": GOOD, "specs/b.yaml": GOOD.replace("good_dag", "Good_Dag")},
        "specs/b.yaml:1:9",
        "differs only in case",
    ),
    Case(
        "contract: missing key",
        {"specs/bad.yaml": GOOD.replace("  source: sales_db\n", "  # none\n")},
        "specs/bad.yaml:4:",
        "'source' is a required property (contract templates/etl_tables.schema.yaml)",
    ),
    Case(
        "contract: wrong type",
        {"specs/bad.yaml": GOOD.replace("schedule: null", "schedule: 5")},
        "specs/bad.yaml:6:13",
        "master_dict.schedule: 5 is not of type 'string', 'null'",
    ),
    Case(
        "contract: pattern",
        {"specs/bad.yaml": GOOD.replace("source: sales_db", "source: Sales DB")},
        "specs/bad.yaml:5:11",
        "master_dict.source: 'Sales DB' does not match",
    ),
    Case(
        "contract: extra key",
        {"specs/bad.yaml": GOOD + "  owner: me\n"},
        "specs/bad.yaml:9:3",
        "Additional properties are not allowed ('owner' was unexpected)",
    ),
    Case(
        "contract: nested item",
        {"specs/bad.yaml": GOOD.replace("key: order_id}", "key: 7}")},
        "specs/bad.yaml:8:",
        "master_dict.tables[0].key: 7 is not of type 'string'",
    ),
    Case(
        "contract: empty list",
        {
            "specs/bad.yaml": GOOD.replace(
                "  tables:\n    - {name: orders, key: order_id}\n", "  tables: []\n"
            )
        },
        "specs/bad.yaml:7:11",
        "should be non-empty",
    ),
    Case(
        "contract: bad email",
        {
            "specs/bad.yaml": (
                "dag_id: r\ntemplate: tenant_report\nnamespace: r\nmaster_dict:\n"
                "  tenant: t\n  schedule: null\n  metrics: [a]\n  recipients: [not-an-email]\n"
            )
        },
        "specs/bad.yaml:8:16",
        "'not-an-email' is not a 'email'",
    ),
    Case(
        "contract itself invalid",
        {"templates/etl_tables.schema.yaml": "type: 12\n"},
        "templates/etl_tables.schema.yaml:1:",
        "invalid JSON Schema contract",
    ),
    Case(
        "contract without template",
        {"templates/gone.schema.yaml": "type: object\n"},
        "templates/gone.schema.yaml:1:1",
        "contract for template 'gone', which does not exist",
    ),
    Case(
        "jinja syntax error",
        {"templates/etl_tables.py.j2": "x = 1\n{% for %}\n"},
        "templates/etl_tables.py.j2:2",
        "template syntax error",
    ),
    Case(
        "jinja undefined name",
        {"templates/etl_tables.py.j2": "x = 1\ny = {{ nope }}\n"},
        "templates/etl_tables.py.j2:2",
        "'nope' is undefined while rendering specs/",
    ),
    Case(
        "jinja missing key",
        {"templates/etl_tables.py.j2": "x = {{ master_dict.missing }}\n"},
        "templates/etl_tables.py.j2:1",
        "has no attribute 'missing' while rendering specs/",
    ),
    Case(
        "renders invalid python",
        {"templates/etl_tables.py.j2": "def f(:\n    pass\n"},
        "templates/etl_tables.py.j2:1:1",
        "renders to invalid Python",
    ),
    Case(
        "renders python that does not compile",
        {"templates/etl_tables.py.j2": "return 1\n"},
        "templates/etl_tables.py.j2:1:1",
        "does not compile: 'return' outside function",
    ),
    Case(
        "value inside a python string",
        {"templates/etl_tables.py.j2": 'x = "id_{{ dag_id }}"\n'},
        "templates/etl_tables.py.j2:1",
        "a value inside a Python string literal",
    ),
    Case(
        "value inside a docstring",
        {"templates/etl_tables.py.j2": '"""DAG\n\nfor {{ dag_id }}.\n"""\n'},
        "templates/etl_tables.py.j2:3",
        "a value inside a Python string literal",
    ),
    Case(
        "identifier filter refuses",
        {
            "templates/etl_tables.py.j2": (
                "{{ master_dict.source|identifier }} = 1\nx = {{ dag_id|identifier }}\n"
            ),
            "specs/bad.yaml": GOOD.replace("good_dag", "good-dag"),
        },
        "templates/etl_tables.py.j2:2",
        "'good-dag' is not a valid Python identifier",
    ),
    Case(
        "legacy template without token",
        {"templates/cleanup_dag.template": "x = #DAG_ID\n"},
        "templates/cleanup_dag.template:1:1",
        "legacy template has no #MASTER_DICT token",
    ),
    Case(
        "legacy token in a string",
        {
            "templates/cleanup_dag.template": "x = #DAG_ID\ny = #MASTER_DICT\n'''#DAG_ID'''\n"
        },
        "templates/cleanup_dag.template:3",
        "a value inside a Python string literal",
    ),
    Case(
        "template defined twice",
        {"templates/etl_tables.template": "a = #DAG_ID\nb = #MASTER_DICT\n"},
        "templates/etl_tables.template:1:1",
        "template 'etl_tables' is defined twice",
    ),
    Case(
        "empty file",
        {"specs/bad.yaml": ""},
        "specs/bad.yaml:1:1",
        "holds no spec: it is empty",
    ),
    Case(
        "only comments",
        {"specs/bad.yaml": "# nothing yet\n"},
        "specs/bad.yaml:1:1",
        "holds no spec",
    ),
    Case(
        "binary file",
        {"specs/bad.yaml": b"\x89PNG\r\n\x1a\n\x00\x00"},
        "specs/bad.yaml:1:1",
        "is not UTF-8 text",
    ),
    Case(
        "latin-1 file",
        {"specs/bad.yaml": GOOD.replace("sales_db", "caf\xe9").encode("latin-1")},
        "specs/bad.yaml:5:",
        "is not UTF-8 text (byte 0xe9)",
    ),
    Case(
        "null byte",
        {"specs/bad.yaml": GOOD.replace("sales_db", "sales\x00db")},
        "specs/bad.yaml:5:",
        "is not allowed in a YAML file",
    ),
    Case(
        "lone surrogate escape",
        {"specs/bad.yaml": GOOD.replace("sales_db", '"sales\\ud800"')},
        "specs/bad.yaml:5:",
        "invalid Unicode character escape",
    ),
    Case(
        "yaml 1.1 boolean",
        {"specs/bad.yaml": GOOD.replace("schedule: null", "schedule: no")},
        "specs/bad.yaml:6:13",
        "'no' is read by YAML 1.1 as the boolean False",
    ),
    Case(
        "base-60 number",
        {"specs/bad.yaml": GOOD.replace("schedule: null", "schedule: 12:30")},
        "specs/bad.yaml:6:13",
        "base-60 number",
    ),
    Case(
        "nan",
        {"specs/bad.yaml": GOOD + "  ratio: .nan\n"},
        "specs/bad.yaml:9:10",
        "master_dict.ratio: nan has no Python literal",
    ),
    Case(
        "infinity",
        {"specs/bad.yaml": GOOD + "  ratio: -.inf\n"},
        "specs/bad.yaml:9:10",
        "-inf has no Python literal",
    ),
    Case(
        "unquoted date",
        {"specs/bad.yaml": GOOD + "  since: 2026-01-31\n"},
        "specs/bad.yaml:9:10",
        "a date has no exact Python literal; quote it",
    ),
    Case(
        "set",
        {"specs/bad.yaml": GOOD + "  ids: !!set {a, b}\n"},
        "specs/bad.yaml:9:8",
        "a set has no exact Python literal; write a list",
    ),
    Case(
        "huge integer",
        {"specs/bad.yaml": GOOD + "  big: " + "9" * 5000 + "\n"},
        "specs/bad.yaml:9:8",
        "integer too long",
    ),
    Case(
        "billion laughs",
        {
            "specs/bad.yaml": GOOD
            + "".join(
                (
                    f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
                    if i
                    else "  l0: &l0 [lol]\n"
                )
                for i in range(10)
            )
        },
        "specs/bad.yaml:",
        "document too large",
    ),
    Case(
        "deep nesting",
        {"specs/bad.yaml": GOOD + "  deep: " + "[" * 150 + "]" * 150 + "\n"},
        "specs/bad.yaml:",
        "document too large",
    ),
    Case(
        "defaults with dag_id",
        {"specs/_defaults.yaml": "dag_id: shared\n"},
        "specs/_defaults.yaml:1:1",
        "unknown key 'dag_id'",
    ),
    Case(
        "defaults bad namespace",
        {"specs/etl/_defaults.yaml": "namespace: a/b\n"},
        "specs/etl/_defaults.yaml:1:12",
        "a name, never a path",
    ),
    Case(
        "error in the second document",
        {"specs/bad.yaml": GOOD + "---\n" + GOOD.replace("good_dag", "bad id")},
        "specs/bad.yaml:10:9",
        "dag_id: 'bad id' is not valid",
    ),
    Case(
        "param default breaks its schema",
        {"specs/bad.yaml": GOOD + "params:\n  limit: {default: many, type: integer}\n"},
        "specs/bad.yaml:10:20",
        "params.limit.default: 'many' is not of type 'integer'",
    ),
    Case(
        "param without default",
        {"specs/bad.yaml": GOOD + "params:\n  limit: {type: integer}\n"},
        "specs/bad.yaml:10:10",
        "params.limit: missing required key 'default'",
    ),
    Case(
        "param with a bad name",
        {"specs/bad.yaml": GOOD + "params:\n  max-rows: {default: 1}\n"},
        "specs/bad.yaml:9:",
        "params: 'max-rows' is not valid",
    ),
    Case(
        "param with an invalid schema",
        {"specs/bad.yaml": GOOD + "params:\n  limit: {default: 1, minimum: low}\n"},
        "specs/bad.yaml:10:",
        "params.limit: 'low' is not of type 'number'",
    ),
    Case(
        "params on a legacy template",
        {
            "specs/bad.yaml": GOOD.replace(
                "template: etl_tables", "template: cleanup_dag"
            ).replace(
                "master_dict:\n  source: sales_db\n  schedule: null\n  tables:\n"
                "    - {name: orders, key: order_id}\n",
                "master_dict: {operation_dict: {}, values_dict: {}, schema_id: 1, "
                "dataset_id: 1, project_id: 1}\n",
            )
            + "params:\n  limit: {default: 1}\n"
        },
        "specs/bad.yaml:5:1",
        "params need a Jinja2 template (.py.j2)",
    ),
    # DAGs declared as tasks (dagsmith/tasks): what a schema cannot say.
    *(
        Case(
            f"dagsmith/tasks: {name}",
            {"specs/bad.yaml": TASKS_SPEC + tasks},
            where,
            message,
        )
        for name, tasks, where, message in (
            (
                "a dependency on nothing",
                f"    a:\n      operator: {EMPTY}\n      dependencies: [b]\n",
                "specs/bad.yaml:9:22",
                "a depends on 'b': no task or task group of that name in this DAG",
            ),
            (
                "a cycle",
                f"    a:\n      operator: {EMPTY}\n      dependencies: [b]\n"
                f"    b:\n      operator: {EMPTY}\n      dependencies: [a]\n",
                "specs/bad.yaml:9:21",
                "tasks depend on each other in a cycle: a, b",
            ),
            (
                "a task with neither operator nor decorator",
                "    a:\n      bash_command: echo\n",
                "specs/bad.yaml:7:5",
                "task 'a' needs operator (a class path) or decorator",
            ),
            (
                "an operator that is no dotted path",
                "    a:\n      operator: Empty Operator\n",
                "specs/bad.yaml:8:17",
                "'Empty Operator' is not a dotted import path",
            ),
            (
                "a +task reference to an unknown task",
                "    a:\n      decorator: airflow.sdk.task\n"
                "      python_callable: helpers.f\n      x: +nothing\n",
                "specs/bad.yaml:10:10",
                "no task named 'nothing' comes before this one",
            ),
        )
    ),
    Case(
        "dagsmith/tasks: a duplicate task_id",
        {
            "specs/bad.yaml": TASKS_SPEC
            + f"    - task_id: a\n      operator: {EMPTY}\n"
            f"    - task_id: a\n      operator: {EMPTY}\n"
        },
        "specs/bad.yaml:9:16",
        "task_id 'a' is already used by tasks[0]",
    ),
    Case(
        "dagsmith/tasks: a relative start date",
        {
            "specs/bad.yaml": TASKS_SPEC.replace('"2026-01-01"', "2 days")
            + f"    a:\n      operator: {EMPTY}\n"
        },
        "specs/bad.yaml:5:15",
        "'2 days' is relative to the day Airflow parses the file",
    ),
    Case(
        "environments: not a list of names",
        {"pyproject.toml": '[tool.dagsmith]\nenvironments = "prod"\n'},
        "pyproject.toml:2:1",
        "[tool.dagsmith] environments: expected a list of distinct names",
    ),
    Case(
        "environments: overlay in a project that declares none",
        {"specs/bad.yaml": GOOD + "environments:\n  prod: {}\n"},
        "specs/bad.yaml:9:1",
        "environments: this project declares no environments",
    ),
    Case(
        "environments: overlay for an undeclared environment",
        {
            "pyproject.toml": ENVIRONMENTS,
            "specs/bad.yaml": GOOD + "environments:\n  prod: {}\n  stage: {}\n",
        },
        "specs/bad.yaml:11:3",
        "environments: 'stage' is not a declared environment "
        "(pyproject.toml declares dev, prod)",
    ),
    Case(
        "environments: overlay for an undeclared environment in _defaults.yaml",
        {
            "pyproject.toml": ENVIRONMENTS,
            "specs/_defaults.yaml": "environments:\n  prd:\n    enabled: false\n",
        },
        "specs/_defaults.yaml:2:3",
        "'prd' is not a declared environment (pyproject.toml declares dev, prod); "
        "did you mean 'prod'?",
    ),
    Case(
        "environments: overlay breaks the contract",
        {
            "pyproject.toml": ENVIRONMENTS,
            "specs/bad.yaml": GOOD
            + "environments:\n  prod:\n    master_dict:\n      schedule: 5\n",
        },
        "specs/bad.yaml:12:17",
        "master_dict.schedule: 5 is not of type 'string', 'null' "
        "(contract templates/etl_tables.schema.yaml) (in prod)",
    ),
    Case(
        "environments: overlay of something other than master_dict and params",
        {
            "pyproject.toml": ENVIRONMENTS,
            "specs/bad.yaml": GOOD + "environments:\n  dev:\n    namespace: x\n",
        },
        "specs/bad.yaml:11:5",
        "environments.dev: unknown key 'namespace'; (allowed: enabled, master_dict, "
        "params)",
    ),
    Case(
        "environments: an overlay that is not a mapping",
        {
            "pyproject.toml": ENVIRONMENTS,
            "specs/bad.yaml": GOOD + "environments:\n  prod: false\n",
        },
        "specs/bad.yaml:10:9",
        "environments.prod: expected a mapping or null, got a boolean",
    ),
    Case(
        "symlink outside the project",
        {},
        "specs/linked.yaml:1:1",
        "symlink to a file outside the project",
        setup=symlink_outside,
    ),
]


def test_there_are_at_least_thirty_classes() -> None:
    assert len({c.name for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused(project: Project, case: Case) -> None:
    # One good spec is enough to prove that nothing is written; fewer renders, faster.
    for path in sorted((project.root / "specs").rglob("*.yaml")):
        if path.name != "inventory.yaml":
            path.unlink()
    assert project.run("generate").exit_code == 0
    before = project.outputs()
    for relative, content in case.files.items():
        project.write(relative, content)
    if case.setup:
        case.setup(project)
    for command in ("generate", "check", "validate"):
        result = project.run(command)
        assert result.exit_code == 2, (command, result.output)
        assert "Traceback" not in result.output
        lines = [
            line for line in result.stderr.splitlines() if line.startswith(case.where)
        ]
        assert any(case.message in line for line in lines), result.stderr
        assert result.stderr.rstrip().endswith("Nothing was written.")
        assert project.outputs() == before


# Mistakes that surface in a command rather than in a spec file: still one line
# with its file (or the tool) named, an exit code, no traceback, nothing changed.


@dataclass(frozen=True)
class CommandCase:
    name: str
    files: dict[str, str]
    args: tuple[str, ...]
    exit_code: int
    # {root} is the project's folder; {name} its name (args are formatted too).
    message: str
    # The working folder, relative to the project's folder.
    cwd: str = "."


OLD = {
    "old/templates/report.template": "from airflow import DAG\ndag = DAG(#DAG_ID)\n",
    "old/dags/Reports/report_0.py": "from airflow import DAG\ndag = DAG('report_0')\n",
}
PARTIAL = "{% macro greet() %}\nX = 1\n{% endmacro %\n"
USES = "dag_id: uses\ntemplate: uses\nnamespace: u\nmaster_dict: {}\n"
USING = {
    "include": '{% include "partials/m.py.j2" %}\nDAG_ID = {{ dag_id }}\n',
    "import": '{% import "partials/m.py.j2" as m %}\nDAG_ID = {{ dag_id }}\n',
}
FAILING_DOT = "#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 3\n"

COMMAND_CASES = [
    *(
        CommandCase(
            f"syntax error in an {verb}ed partial, {command}",
            {
                "templates/partials/m.py.j2": PARTIAL,
                "templates/uses.py.j2": USING[verb],
                "specs/uses.yaml": USES,
            },
            (command,),
            2,
            "templates/partials/m.py.j2:3:1: template syntax error: expected token "
            "'end of statement block', got '%'",
        )
        for verb in ("include", "import")
        for command in ("generate", "validate", "check")
    ),
    CommandCase(
        "verify with an interpreter that dies",
        {},
        ("verify", "--python", "/bin/false"),
        2,
        "dagsmith: /bin/false could not load Airflow (exit 1); point --python at an "
        "interpreter that has Apache Airflow",
    ),
    CommandCase(
        "verify with an interpreter that is not there",
        {},
        ("verify", "--python", "/no/such/python"),
        2,
        "dagsmith: cannot run /no/such/python: No such file or directory",
    ),
    CommandCase(
        "new where a file stands in place of the namespace folder",
        {"specs/etl2": "a file\n"},
        ("new", "etl_tables", "etl_x", "--namespace", "etl2"),
        2,
        "specs/etl2/etl_x.yaml:1:1: specs/etl2 is a file, so its folder cannot be "
        "made; move it away",
    ),
    CommandCase(
        "new over an existing spec",
        {"specs/etl/etl_x.yaml": "dag_id: etl_x\n"},
        ("new", "etl_tables", "etl_x", "--namespace", "etl"),
        2,
        "specs/etl/etl_x.yaml:1:1: already exists; not overwritten",
    ),
    # Shapes of project that are refused: said with where dagsmith looked, and why.
    *(
        CommandCase(
            f"{command} in a git repository above the project",
            {"repo/.git/HEAD": "ref: refs/heads/main\n"},
            (command,),
            2,
            f"{said}{folder}/: not found in {{root}}/repo (the project root, marked "
            f"by {{root}}/repo/.git); run dagsmith in the folder that holds {folder}/, "
            f"add a pyproject.toml with [tool.dagsmith], or pass --{folder}",
            cwd="repo",
        )
        for command, folder, said in (
            ("generate", "specs", ""),
            ("check", "specs", ""),
            ("list", "specs", ""),
            (
                "new etl_tables etl_x",
                "templates",
                "(arguments):1:1: unknown template 'etl_tables': ",
            ),
        )
    ),
    CommandCase(
        "import of templates to a folder outside the project",
        OLD,
        ("import", "old/templates", "old/dags", "--templates", "../{name}-templates"),
        2,
        "{root}-templates/report.template:1:1: is outside the project ({root}), and "
        "dagsmith writes only inside it; point the folder inside the project",
    ),
    CommandCase(
        "specs given that are not there",
        {},
        ("generate", "--specs", "nothing"),
        2,
        "nothing/: not found (given by --specs)",
    ),
    CommandCase(
        "[tool.dagsmith] specs that are not there",
        {"pyproject.toml": '[tool.dagsmith]\nspecs = "dag_specs"\n'},
        ("validate",),
        2,
        "dag_specs/: not found ([tool.dagsmith] specs in {root}/pyproject.toml names "
        "it); fix the setting, or pass --specs",
    ),
    CommandCase(
        "[tool.dagsmith] specs outside the project",
        {"pyproject.toml": '[tool.dagsmith]\nspecs = "../specs"\n'},
        ("generate",),
        2,
        "pyproject.toml:2:1: [tool.dagsmith] specs: ../specs is outside the project "
        "({root}); keep the specs folder inside it",
    ),
]


@pytest.mark.parametrize("case", COMMAND_CASES, ids=[c.name for c in COMMAND_CASES])
def test_command_mistakes_are_one_line_without_traceback(
    project: Project, case: CommandCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert project.run("generate").exit_code == 0
    before = project.outputs()
    for relative, content in case.files.items():
        project.write(relative, content)
    specs_before = sorted(p for p in (project.root / "specs").rglob("*"))
    templates_before = sorted((project.root / "templates").rglob("*"))
    names = {"root": project.root, "name": project.root.name}
    monkeypatch.chdir(project.root / case.cwd)
    args = [part.format(**names) for arg in case.args for part in arg.split(" ")]
    result = project.run(*args)
    assert result.exit_code == case.exit_code, result.output
    assert "Traceback" not in result.output
    message = case.message.format(**names)
    assert any(
        line.startswith(message) for line in result.stderr.splitlines()
    ), result.stderr
    assert project.outputs() == before
    assert sorted(p for p in (project.root / "specs").rglob("*")) == specs_before
    assert sorted((project.root / "templates").rglob("*")) == templates_before
    assert not (project.root.parent / f"{project.root.name}-templates").exists()


@pytest.mark.airflow
def test_graph_svg_when_dot_fails_is_one_line(
    project: Project,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_folder = tmp_path_factory.mktemp("bin")
    (bin_folder / "dot").write_text(FAILING_DOT)
    (bin_folder / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    result = project.run("graph", "etl_sales", "--format", "svg")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        "dagsmith: Graphviz's dot failed (exit 3: Error: syntax error in line 1); "
        "try --format dot"
    ]


def test_an_unexpected_error_is_a_bug_said_in_one_line_with_exit_3(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagsmith import pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(pipeline, "generate", broken)
    result = project.run("generate")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "dagsmith: internal error, a bug in dagsmith: KeyError: 'boom'; the traceback "
        "is in .dagsmith/crash.log, please report it"
    ]
    log = (project.root / ".dagsmith/crash.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "KeyError: 'boom'" in log
