"""A DAG declared as tasks, in dag-factory's vocabulary, as static Python.

This is the code behind the built-in template `dagsmith/tasks`. It does at
build time what dag-factory's `DagBuilder` does at every parse: it reads the
same keys, applies the same conversions (dates, callbacks, `__type__`
objects, assets, mapping) and writes one constructor call per task group and
task, then the dependencies, in the order dag-factory creates them. What
dag-factory computes at parse time from outside the config (a relative start
date, `Variable.get`, a file read) is refused here with the reason; `dagsmith
import --from dag-factory` writes the static value instead.

`translate` returns the module's parts, or the problems of the config, each
at its path in master_dict. Validation and rendering both call it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dagvalues import ASSET, CALLBACKS, ConfigValues
from .model import ValuePath
from .pycode import Attr, Call, Item, Ref, Var, identifier_for

PACK = "dagsmith"  # dagsmith's own template pack
TEMPLATE = f"{PACK}/tasks"

DAG = Ref("airflow.sdk", "DAG")
TASK_GROUP = Ref("airflow.sdk", "TaskGroup")

# What dag-factory passes to DAG(), in its order, and how each value is read.
DAG_ARGUMENTS = (
    "dag_display_name",
    "description",
    "max_active_tasks",
    "catchup",
    "max_active_runs",
    "dagrun_timeout",
    "template_searchpath",
    "render_template_as_native_obj",
    "on_success_callback",
    "on_failure_callback",
    "default_args",
    "doc_md",
    "access_control",
    "is_paused_upon_creation",
    "schedule",
    "params",
    "user_defined_macros",
    "start_date",
    "end_date",
    "tags",
)
# The rest of Airflow 3's DAG arguments, which dag-factory 1.1.0 does not
# pass on: dagsmith/tasks does (an import leaves them out, as dag-factory does).
DAG_MORE_ARGUMENTS = (
    "user_defined_filters",
    "max_consecutive_failed_dag_runs",
    "deadline",
    "jinja_environment_kwargs",
    "owner_links",
    "auto_register",
    "fail_fast",
    "allowed_run_types",
    "disable_bundle_versioning",
    "rerun_with_latest_version",
)
# What dag-factory reads at every parse to make a DAG argument.
DAG_READ_AT_PARSE = {
    "doc_md_file_path": "dag-factory reads this file at every parse; write its "
    "text as doc_md (`dagsmith import --from dag-factory` does)",
    "doc_md_python_callable_name": "dag-factory calls a function at every parse "
    "to make doc_md; write its text as doc_md",
    "doc_md_python_callable_file": "dag-factory calls a function at every parse "
    "to make doc_md; write its text as doc_md",
}
TASK_OWN_KEYS = ("operator", "decorator", "dependencies", "task_group_name", "task_id")
GROUP_OWN_KEYS = ("dependencies", "parent_group_name", "group_name")
DAG_CALLBACKS = ("on_success_callback", "on_failure_callback", "on_execute_callback")
# What an operator takes (BaseOperator's arguments and the TaskFlow
# decorator's own): a decorated task's other keys are its callable's arguments.
OPERATOR_ARGUMENTS = frozenset(
    [
        "task_id",
        "owner",
        "email",
        "email_on_retry",
        "email_on_failure",
        "retries",
        "retry_delay",
        "retry_exponential_backoff",
        "max_retry_delay",
        "retry_policy",
        "start_date",
        "end_date",
        "depends_on_past",
        "ignore_first_depends_on_past",
        "wait_for_past_depends_before_skipping",
        "wait_for_downstream",
        "dag",
        "params",
        "default_args",
        "priority_weight",
        "weight_rule",
        "queue",
        "pool",
        "pool_slots",
        "sla",
        "execution_timeout",
        "on_execute_callback",
        "on_failure_callback",
        "on_success_callback",
        "on_retry_callback",
        "on_skipped_callback",
        "pre_execute",
        "post_execute",
        "trigger_rule",
        "resources",
        "run_as_user",
        "map_index_template",
        "max_active_tis_per_dag",
        "max_active_tis_per_dagrun",
        "executor",
        "executor_config",
        "do_xcom_push",
        "multiple_outputs",
        "inlets",
        "outlets",
        "task_group",
        "doc",
        "doc_md",
        "doc_json",
        "doc_yaml",
        "doc_rst",
        "task_display_name",
        "logger_name",
        "allow_nested_operators",
        "render_template_as_native_obj",
        "python_callable",
        "op_args",
        "op_kwargs",
        "templates_dict",
        "templates_exts",
        "show_return_value_in_logs",
    ]
)
# What Airflow takes as a task or group id.
AIRFLOW_KEY = re.compile(r"[\w.-]{1,250}")
# `+task` or `+task["key"]`: a decorated task's output, as dag-factory reads it.
TASK_OUTPUT = re.compile(r"^\+(?P<task>\w*)(\[['\"](?P<key>.*)['\"]\])?$")
EXPAND_OUTPUT = re.compile(r"^(?P<task>.+?)\.output$|^XcomArg\(+(?P<arg>.*?)\)")


@dataclass(frozen=True)
class DagModule:
    """The parts of a generated module: imports, DAG arguments, statements."""

    imports: tuple[str, ...]
    arguments: tuple[tuple[str, str], ...]
    statements: tuple[str, ...]


@dataclass(frozen=True)
class _Task:
    name: str
    path: ValuePath
    config: Mapping[str, Any]


@dataclass
class _Translation(ConfigValues):
    """One config's translation: its DAG, groups, tasks and dependencies."""

    config: Mapping[str, Any] = field(default_factory=dict)
    variables: dict[str, Var] = field(default_factory=dict)
    decorated_tasks: set[str] = field(default_factory=set)

    # The DAG

    def dag_arguments(self) -> list[tuple[str, object]]:
        """DAG()'s arguments, as dag-factory passes them, in its order."""
        config = self.config
        given = {k: v for k, v in config.items() if v is not None}
        if "concurrency" in given:
            given.setdefault("max_active_tasks", given["concurrency"])
        order = (*DAG_ARGUMENTS, *DAG_MORE_ARGUMENTS)
        arguments = {k: self.value(given[k], (k,)) for k in order if k in given}
        arguments["default_args"] = self.default_args(
            config.get("default_args") or {}, ("default_args",)
        )
        arguments.update(self.callbacks(config, DAG_CALLBACKS, ()))
        arguments.pop("on_execute_callback", None)  # read, and dropped, by dag-factory
        if "schedule" in given:
            arguments["schedule"] = self.schedule(given["schedule"], ("schedule",))
        for key in ("user_defined_macros", "user_defined_filters"):
            if isinstance(given.get(key), Mapping):
                arguments[key] = self.macros(given[key], (key,))
        for key in ("start_date", "end_date"):
            if key in given:
                arguments[key] = self.date(given[key], config.get("timezone"), (key,))
        # dag-factory always passes a start date, None when there is none.
        arguments.setdefault("start_date", None)
        self.read_at_parse(given)
        return [(k, arguments[k]) for k in order if k in arguments]

    def read_at_parse(self, given: Mapping[str, Any]) -> None:
        """Problems of what dag-factory reads from outside the config at parse time."""
        if "template_searchpath" in given:
            self.searchpath(given["template_searchpath"])
        for key, why in DAG_READ_AT_PARSE.items():
            if key in given:
                self.problem((key,), why)

    def schedule(self, value: object, path: ValuePath) -> object:
        if isinstance(value, str) and value.strip().lower() == "none":
            return None
        if isinstance(value, list):
            return [
                Call(ASSET, (item.strip(),)) if isinstance(item, str) else item
                for item in (self.value(v, (*path, i)) for i, v in enumerate(value))
                if item is not None and not (isinstance(item, str) and not item.strip())
            ]
        if isinstance(value, Mapping) and not (
            {"__type__", "__and__", "__or__"} & set(value)
        ):
            self.problem(
                path,
                "a schedule mapping (datasets, file) is Airflow 2 only; write a list of "
                "asset URIs, or objects with __type__",
            )
            return None
        return self.value(value, path)

    def searchpath(self, value: object) -> None:
        """dag-factory refuses a template_searchpath that is not absolute."""
        paths = value if isinstance(value, list) else [value]
        for index, path in enumerate(paths):
            if not (isinstance(path, str) and path.startswith("/")):
                listed = isinstance(value, list)
                where = (
                    ("template_searchpath", index)
                    if listed
                    else ("template_searchpath",)
                )
                said = f"{path!r} is not an absolute path, which dag-factory requires"
                self.problem(where, said)

    def macros(self, value: Mapping[str, Any], path: ValuePath) -> dict[str, object]:
        """user_defined_macros: a string is a dotted path to import."""
        result: dict[str, object] = {}
        for key, item in value.items():
            if isinstance(item, str):
                result[key] = self.reference(item, (*path, key))
            elif isinstance(item, Mapping):
                result[key] = self.macros(item, (*path, key))
            else:
                result[key] = self.value(item, (*path, key))
        return result

    # Groups and tasks

    def named(self, key: str, id_key: str) -> list[_Task]:
        """Tasks or groups, given as a mapping or as a list with ids."""
        value = self.config.get(key) or {}
        if isinstance(value, Mapping):
            entries = [(name, (key, name), conf) for name, conf in value.items()]
        elif isinstance(value, list):
            entries = []
            seen: dict[object, int] = {}
            for index, conf in enumerate(value):
                name = conf.get(id_key) if isinstance(conf, Mapping) else None
                if name in seen:
                    self.problem(
                        (key, index, id_key),
                        f"{id_key} {name!r} is already used by {key}[{seen[name]}]",
                    )
                    continue
                seen[name] = index
                entries.append((name, (key, index), conf))
        else:
            self.problem((key,), f"{key} must be a mapping or a list")
            return []
        found = []
        for name, path, conf in entries:
            if not isinstance(conf, Mapping):
                self.problem(path, f"each entry of {key} is a mapping of its arguments")
            elif not (isinstance(name, str) and AIRFLOW_KEY.fullmatch(name)):
                self.problem(
                    path if isinstance(path[-1], str) else (*path, id_key),
                    f"{id_key} {name!r} is not an Airflow id: letters, digits, "
                    "'_', '.' and '-', at most 250",
                )
            else:
                found.append(_Task(name, path, conf))
        return found

    def allocate(self, groups: list[_Task], tasks: list[_Task]) -> None:
        """A variable for every group and task, before any code is written, so
        that imports take aliases instead of the variables' names."""
        for kind, items in (("group", groups), ("task", tasks)):
            for item in items:
                var = Var(identifier_for(item.name, self.writer.reserved))
                self.writer.reserved.add(var.name)
                self.variables[f"{kind} {item.name}"] = var

    def groups(self, groups: list[_Task]) -> list[str]:
        """A `TaskGroup(...)` per group, parents first, in config order."""
        by_name = {g.name: g for g in groups}
        made: dict[str, Var] = {}
        statements: list[str] = []

        def make(group: _Task, chain: tuple[str, ...]) -> Var | None:
            if group.name in made:
                return made[group.name]
            if group.name in chain:
                cycle = " -> ".join((*chain, group.name))
                where = (*group.path, "parent_group_name")
                self.problem(where, f"groups nest in a cycle: {cycle}")
                return None
            kwargs = self.group_arguments(group)
            parent = group.config.get("parent_group_name")
            if parent is not None:
                if parent not in by_name:
                    where = (*group.path, "parent_group_name")
                    self.unknown(where, parent, "task group", by_name)
                    return None
                parent_var = make(by_name[parent], (*chain, group.name))
                if parent_var is None:
                    return None
                kwargs.append(("parent_group", parent_var))
            made[group.name] = var = self.variables["group " + group.name]
            call = self.writer(Call(TASK_GROUP, (), tuple(kwargs)))
            statements.append(f"{var.name} = {call}")
            return var

        for group in groups:
            make(group, ())
        return statements

    def group_arguments(self, group: _Task) -> list[tuple[str, object]]:
        """A group's arguments: its id, then its keys but dag-factory's own."""
        kwargs: list[tuple[str, object]] = [("group_id", group.name)]
        for key, item in group.config.items():
            here = (*group.path, key)
            if key == "default_args":
                kwargs.append((key, self.default_args(item, here)))
            elif key not in GROUP_OWN_KEYS:
                kwargs.append((key, self.value(item, here)))
        return kwargs

    def unknown(
        self,
        path: ValuePath,
        name: object,
        kind: str,
        known: Mapping[str, Any],
        of: str = "",
    ) -> None:
        """A name that names nothing, and what there is instead."""
        listed = ", ".join(sorted(known)) or "none"
        who = f"{of} depends on {name!r}: " if of else ""
        self.problem(
            path,
            (
                f"{who}no {kind} of that name in this DAG (there are: {listed})"
                if of
                else f"no {kind} named {name!r} in this DAG (there are: {listed})"
            ),
        )

    def before(self, path: ValuePath, name: object, made: Mapping[str, Var]) -> None:
        """A reference to a task's output that no earlier task can give."""
        listed = ", ".join(made) or "none"
        self.problem(
            path,
            f"no task named {name!r} comes before this one (dag-factory makes tasks "
            f"in dependency order; before it: {listed}); add it to dependencies",
        )

    def ordered(self, tasks: list[_Task]) -> list[_Task]:
        """Tasks in the order dag-factory creates them: Kahn's sort over task
        dependencies (a group dependency does not count), first come first."""
        names = {t.name: t for t in tasks}
        downstream: dict[str, list[str]] = {t.name: [] for t in tasks}
        waiting = {t.name: 0 for t in tasks}
        for task in tasks:
            for dependency in _dependencies(task.config):
                if dependency in names:
                    downstream[dependency].append(task.name)
                    waiting[task.name] += 1
        ready = [name for name, count in waiting.items() if not count]
        order = []
        while ready:
            current = ready.pop(0)
            order.append(names[current])
            for child in downstream[current]:
                waiting[child] -= 1
                if not waiting[child]:
                    ready.append(child)
        if len(order) != len(tasks):
            stuck = [t for t in tasks if waiting[t.name]]
            listed = ", ".join(t.name for t in stuck)
            self.problem(
                (*stuck[0].path, "dependencies"),
                f"tasks depend on each other in a cycle: {listed}",
            )
        return order

    def task(self, task: _Task, made: dict[str, Var]) -> str | None:
        config = task.config
        if "operator" not in config and "decorator" not in config:
            self.problem(
                task.path,
                f"task {task.name!r} needs operator (a class path) or decorator",
            )
            return None
        group = config.get("task_group_name")
        group_var = self.variables.get(f"group {group}") if group is not None else None
        if group is not None and group_var is None:
            groups = {
                k[6:]: v for k, v in self.variables.items() if k.startswith("group ")
            }
            self.unknown((*task.path, "task_group_name"), group, "task group", groups)
        arguments = self.task_arguments(task, made)
        if group_var is not None:
            arguments.append(("task_group", group_var))
        var = self.variables["task " + task.name]
        if "operator" in config:
            call = self.operator(task, arguments, made)
        else:
            call = self.decorated(task, arguments, made)
            self.decorated_tasks.add(task.name)
        made[task.name] = var
        return None if call is None else f"{var.name} = {self.writer(call)}"

    def task_arguments(
        self, task: _Task, made: dict[str, Var]
    ) -> list[tuple[str, object]]:
        """A task's keyword arguments (its own keys left out), converted."""
        config, path = task.config, task.path
        converted: dict[str, object] = {"task_id": task.name}
        skip = {f"{n}_{s}" for n in CALLBACKS for s in ("name", "file")}
        skip |= {"python_callable_name", "python_callable_file"}
        skip |= {
            "execution_date_fn_name",
            "execution_date_fn_file",
            "expand",
            "partial",
        }
        for key, item in config.items():
            if key in TASK_OWN_KEYS or key in skip:
                continue
            here = (*path, key)
            if key == "variables_as_arguments":
                self.problem(
                    here,
                    "variables_as_arguments reads Airflow Variables at every parse; "
                    "use a Jinja template in the argument ({{ var.value.NAME }})",
                )
            elif key == "execution_date_fn":
                converted[key] = self.reference(item, here)
            elif key == "execution_delta":
                converted[key] = self.duration(item, here)
            elif key in ("inlets", "outlets"):
                converted[key] = self.assets(item, here)
            elif key == "python_callable" and isinstance(item, str):
                converted[key] = self.reference(item, here)
            else:
                converted[key] = self.value(item, here)
        if {"python_callable_name", "python_callable_file"} <= set(config):
            converted["python_callable"] = self.from_file(
                config, "python_callable", path
            )
        if {"execution_date_fn_name", "execution_date_fn_file"} <= set(config):
            converted["execution_date_fn"] = self.from_file(
                config, "execution_date_fn", path
            )
        converted.update(self.callbacks(config, CALLBACKS, path))
        return list(converted.items())

    def operator(
        self, task: _Task, arguments: list[tuple[str, object]], made: dict[str, Var]
    ) -> object:
        operator = self.reference(task.config["operator"], (*task.path, "operator"))
        expand = task.config.get("expand")
        if expand is None and "partial" not in task.config:
            return Call(operator, (), tuple(arguments))
        partial = self.mapping_of(task, "partial")
        names = dict(arguments)
        for key, value in partial.items():
            if key in names:
                self.problem(
                    (*task.path, "partial", key),
                    f"{key} is also an argument of the task",
                )
            names[key] = value
        expanded = {
            key: self.expand_value(value, made, (*task.path, "expand", key))
            for key, value in self.mapping_of(task, "expand").items()
        }
        return Call(
            Attr(Call(Attr(operator, "partial"), (), tuple(names.items())), "expand"),
            (),
            tuple(expanded.items()),
        )

    def mapping_of(self, task: _Task, key: str) -> dict[str, object]:
        value = task.config.get(key) or {}
        if not isinstance(value, Mapping):
            self.problem((*task.path, key), f"{key} must be a mapping of arguments")
            return {}
        return {k: self.value(v, (*task.path, key, k)) for k, v in value.items()}

    def expand_value(
        self, value: object, made: dict[str, Var], path: ValuePath
    ) -> object:
        """An operator's expand value: `task.output` or `XcomArg(task)` is that
        task's output (it must come before this one); anything else as written."""
        found = EXPAND_OUTPUT.match(value) if isinstance(value, str) else None
        if found is None:
            return value
        name = found.group("task") or found.group("arg")
        if name not in made:
            self.before(path, name, made)
            return None
        if name in self.decorated_tasks:
            self.problem(
                path,
                f"{name!r} is a TaskFlow task, and dag-factory maps an operator only "
                "over an operator's output; make it an operator, or this task a "
                "decorated one (expand: {ARG: +" + name + "})",
            )
            return None
        return Attr(made[name], "output")

    def output(self, value: object, made: dict[str, Var], path: ValuePath) -> object:
        """A decorated task's argument: `+task` (or `+task["key"]`) is that
        task's output; anything else as written."""
        found = TASK_OUTPUT.match(value) if isinstance(value, str) else None
        if found is None:
            return value
        name, key = found.group("task"), found.group("key")
        if name not in made:
            self.before(path, name, made)
            return None
        return made[name] if not key else Item(made[name], key)

    def decorated(
        self, task: _Task, arguments: list[tuple[str, object]], made: dict[str, Var]
    ) -> object:
        config, path = task.config, task.path
        decorator = self.reference(config["decorator"], (*path, "decorator"))
        names = dict(arguments)
        if "python_callable" not in names:
            self.problem(path, "a decorated task needs python_callable (a dotted path)")
        own = {k: v for k, v in names.items() if k in OPERATOR_ARGUMENTS}
        others = {k: v for k, v in names.items() if k not in OPERATOR_ARGUMENTS}
        passed = self.outputs(config, others, made, path)
        expand, partial = (
            self.outputs(
                config.get(key) or {}, self.mapping_of(task, key), made, (*path, key)
            )
            for key in ("expand", "partial")
        )
        made_task = Call(decorator, (), tuple(own.items()))
        if expand and partial and passed:
            self.problem(
                path, "with expand and partial, every argument goes in one of them"
            )
        if expand and partial:
            mapped = Call(Attr(made_task, "partial"), (), tuple(partial.items()))
            return Call(Attr(mapped, "expand"), (), tuple(expand.items()))
        if expand:
            return Call(Attr(made_task, "expand"), (), tuple(expand.items()))
        return Call(made_task, (), tuple(passed.items()))

    def outputs(
        self,
        written: Mapping[str, Any],
        converted: Mapping[str, object],
        made: dict[str, Var],
        path: ValuePath,
    ) -> dict[str, object]:
        """A decorated task's arguments: a `+task` string as that task's
        output, anything else as converted."""
        return {
            key: (
                self.output(written[key], made, (*path, key))
                if isinstance(written.get(key), str)
                else value
            )
            for key, value in converted.items()
        }

    def dependencies(self, tasks: list[_Task], groups: list[_Task]) -> list[str]:
        """`task.set_upstream(upstream)` for each dependency of each task and
        group, in dag-factory's order (tasks, then groups). set_upstream, as
        dag-factory calls it: on a task group, `>>` records the edge on the
        other group."""
        items = [("group", g) for g in groups] + [("task", t) for t in tasks]
        variables = {i.name: self.variables[f"{kind} {i.name}"] for kind, i in items}
        statements = []
        for kind, item in [*items[len(groups) :], *items[: len(groups)]]:
            deps = item.config.get("dependencies") or []
            if not isinstance(deps, list):
                where = (*item.path, "dependencies")
                self.problem(where, "dependencies must be a list of names")
                continue
            target = self.variables[f"{kind} {item.name}"]
            for index, name in enumerate(deps):
                if name in variables:
                    statements.append(
                        f"{target.name}.set_upstream({variables[name].name})"
                    )
                else:
                    where = (*item.path, "dependencies", index)
                    kinds = "task or task group"
                    self.unknown(where, name, kinds, variables, item.name)
        return statements

    def module(self) -> DagModule:
        arguments = self.dag_arguments()
        groups = self.named("task_groups", "group_name")
        tasks = self.named("tasks", "task_id")
        clash = {g.name for g in groups} & {t.name for t in tasks}
        for name in sorted(clash):
            self.problem(
                ("task_groups",), f"{name!r} names both a task and a task group"
            )
        self.allocate(groups, tasks)
        self.writer.name_of(DAG)
        statements = self.groups(groups)
        made: dict[str, Var] = {}
        for task in self.ordered(tasks):
            statement = self.task(task, made)
            if statement is not None:
                statements.append(statement)
        statements += self.dependencies(tasks, groups)
        written = tuple((name, self.writer(value)) for name, value in arguments)
        return DagModule(tuple(self.writer.import_lines()), written, tuple(statements))


def translate(
    config: Mapping[str, Any],
) -> tuple[DagModule | None, list[tuple[ValuePath, str]]]:
    """The module of a DAG declared as tasks, or the problems of its config,
    each at its path in master_dict."""
    translation = _Translation(config=config)
    module = translation.module()
    problems = translation.problems
    return (None if problems else module), problems


def _dependencies(config: Mapping[str, Any]) -> list[object]:
    deps = config.get("dependencies") or []
    return deps if isinstance(deps, list) else []
