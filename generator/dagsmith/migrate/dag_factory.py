"""`dagsmith import --from dag-factory`: dag-factory configs become specs on
the built-in template `dagsmith/tasks`, with every default resolved.

dag-factory reads its YAML at every parse: it expands `$VAR` in the raw
text, parses it, merges the `defaults.yml` chain and the file's `default:`
block, and builds the DAG. The import does the reading and merging once,
exactly as dag-factory 1.1.0 does (see `merged_dags`), so each spec reads as
the whole DAG and generates the same one; `dagcode` does the building.

What dag-factory computes at parse time from outside the config is written
as the value it has on the day of the import, with a line saying so.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import dagcode, dagvalues
from ..errors import InputError, Position, Problem
from ..model import Template
from ..schema import NAME_PATTERN
from .dag_creator import ImportPlan, spec_yaml

SUFFIXES = (".yaml", ".yml")
DEFAULTS_FILES = ("defaults.yml", "defaults.yaml")
# Top-level keys of a config that are not DAGs.
NOT_DAGS = ("default", "task_groups")
ENV_VAR = re.compile(r"\$(\w+|\{[^}]*\})")
# What dag-factory 1.1.0 refuses on Airflow 3, in words.
REFUSED_KEYS = {
    "schedule_interval": "schedule_interval was removed in Airflow 3; write schedule",
    "timetable": "Airflow 3's DAG takes no timetable=; write the timetable as schedule",
}
REMOVED_MODULES = {
    "airflow.datasets": "airflow.datasets was removed in Airflow 3; use airflow.sdk.Asset",
}
# Keys dag-factory reads and drops on Airflow 3: the import leaves them out.
IGNORED_KEYS = {
    "default_view": "Airflow 2 only",
    "orientation": "Airflow 2 only",
    "on_execute_callback": "dag-factory reads it and passes it to nothing",
    "on_execute_callback_name": "dag-factory reads it and passes it to nothing",
    "on_execute_callback_file": "dag-factory reads it and passes it to nothing",
    "sla_miss_callback": "removed in Airflow 3.1",
    "dagrun_timeout_sec": "dag-factory 1.1.0 ignores it",
    **{
        key: "dag-factory 1.1.0 does not pass it to the DAG"
        for key in dagcode.DAG_MORE_ARGUMENTS
    },
}


@dataclass(frozen=True)
class ConfigFile:
    """A config file's DAGs, merged, or why it cannot be read."""

    shown: str
    dags: tuple[tuple[str, dict[str, Any], int], ...] = ()  # (dag_id, config, line)
    problem: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class Reader:
    """Reads configs and defaults files as dag-factory's loader does."""

    environ: Mapping[str, str]
    now: datetime  # aware: a relative date counts back from its day in the DAG's zone
    cache: dict[Path, tuple[Any, list[str]]] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)

    def load(self, path: Path) -> tuple[Any, list[str]]:
        """A YAML file after `$VAR` expansion, and a note per variable."""
        if path not in self.cache:
            import yaml

            raw = self.texts[path] = path.read_text(encoding="utf-8")
            notes = []
            for name in sorted(set(ENV_VAR.findall(raw))):
                bare = name.strip("{}")
                if bare in self.environ:
                    notes.append(f"${bare} expanded to {self.environ[bare]!r}")
                else:
                    notes.append(f"${bare} is not set here, and stays as written")
            text = ENV_VAR.sub(lambda m: self.environ.get(m[1].strip("{}"), m[0]), raw)
            self.cache[path] = (yaml.safe_load(text), notes)
        return self.cache[path]


def config_files(configs: Path) -> list[Path]:
    """The config files dag-factory's folder scan loads: `.yml`/`.yaml` under
    the folder, sorted, without those `.airflowignore` leaves out, and without
    defaults files (dag-factory would build a stray DAG from one)."""
    if configs.is_file():
        return [configs]
    ignored = _airflowignore(configs)
    found = []
    for folder, dirs, files in os.walk(configs, followlinks=True):
        dirs.sort()
        here = Path(folder)
        dirs[:] = [d for d in dirs if not ignored(here / d, True)]
        for name in sorted(files):
            path = here / name
            wanted = name.endswith(SUFFIXES) and name not in DEFAULTS_FILES
            if wanted and not ignored(path, False):
                found.append(path)
    return found


def _airflowignore(root: Path) -> Callable[[Path, bool], bool]:
    """Whether a path is ignored by the `.airflowignore` files above it (glob syntax)."""
    import pathspec

    specs: dict[Path, Any] = {}
    for folder, _, files in os.walk(root, followlinks=True):
        if ".airflowignore" in files:
            text = (Path(folder) / ".airflowignore").read_text(encoding="utf-8")
            lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
            specs[Path(folder)] = pathspec.GitIgnoreSpec.from_lines(filter(None, lines))

    def ignored(path: Path, is_dir: bool) -> bool:
        decision = False
        for folder, spec in specs.items():
            if folder == path or folder not in path.parents:
                continue
            relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
            for pattern in spec.patterns:
                if pattern.include is not None and pattern.match_file(relative):
                    decision = pattern.include
        return decision

    return ignored


def defaults_files(config: Path, root: Path) -> list[Path]:
    """The defaults files that apply to a config, farthest first: one per
    folder (defaults.yml before defaults.yaml), from the config's folder up
    to `root` when root holds it, else the config's folder and root."""
    parents = list(config.parents)
    folders = (
        parents[: parents.index(root) + 1] if root in parents else [parents[0], root]
    )
    found = []
    for folder in folders:
        for name in DEFAULTS_FILES:
            if (folder / name).is_file():
                found.append(folder / name)
                break
    return list(reversed(found))


def merged_dags(
    data: Mapping[str, Any], defaults: list[Mapping[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each DAG of a config with its defaults applied, as dag-factory 1.1.0
    merges them: `_DagFactory.build_dags`, then `DagBuilder.get_dag_params`.

    default_args: the DAG's, then the file's `default:` block's, then the
    defaults files' (nearest first), key by key. Other keys: the DAG's, then
    the defaults files' (their tags joined, sorted), then the `default:`
    block's; mappings merged deeply, lists replaced.
    """
    file_default = dict(data.get("default") or {})
    global_args: dict[str, Any] = {}
    dag_level: dict[str, Any] = {}
    for config in defaults:
        global_args.update(config.get("default_args") or {})
        for key, value in config.items():
            if key == "tags":
                dag_level[key] = sorted(set(dag_level.get("tags", []) + value))
            elif key != "default_args":
                dag_level[key] = value
    file_default["default_args"] = {
        **global_args,
        **(file_default.get("default_args") or {}),
    }
    for dag_id, dag in data.items():
        if dag_id in NOT_DAGS:
            continue
        config = {**dag_level, **(dag or {})}
        yield str(dag_id), _fill(config, file_default)


def _fill(config: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """dag-factory's merge_configs: keys missing from config come from defaults;
    mappings present in both are filled in the same way."""
    import copy

    result = copy.deepcopy(config)
    for key, value in defaults.items():
        if key not in result:
            result[key] = copy.deepcopy(value)
        elif isinstance(result[key], dict) and isinstance(value, dict):
            result[key] = _fill(result[key], value)
    return result


def read_config(path: Path, root: Path, reader: Reader, shown: str) -> ConfigFile:
    """A config file's DAGs with defaults applied and values made static."""
    import yaml

    try:
        data, notes = reader.load(path)
        chain = []
        for defaults_path in defaults_files(path, root):
            defaults, more = reader.load(defaults_path)
            chain.append(defaults or {})
            notes += more
    except yaml.constructor.ConstructorError as error:
        message = _one_line(error)
        if "python/" in message:
            message = (
                "uses a !!python tag, which builds an object as it is read; write "
                "the dotted path as a string, or __type__ for an object"
            )
        return ConfigFile(shown, problem=f"cannot be read: {message}")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return ConfigFile(shown, problem=f"cannot be read: {_one_line(error)}")
    if not isinstance(data, dict):
        return ConfigFile(shown, problem="is not a mapping of DAGs")
    for key, value in data.items():
        if key not in NOT_DAGS and not isinstance(value, dict | None):
            kind = type(value).__name__
            return ConfigFile(
                shown,
                problem=f"{key!r} is a {kind}, not a DAG, so dag-factory fails on "
                "the whole file; it is no dag-factory config",
            )
    text = reader.texts[path]
    dags = []
    for dag_id, config in merged_dags(data, chain):
        static, said = _static(config, reader.now)
        dags.append((dag_id, static, _line_of(text, dag_id)))
        notes += [f"{dag_id}: {line}" for line in said]
    return ConfigFile(shown, tuple(dags), notes=tuple(dict.fromkeys(notes)))


def _line_of(text: str, key: str) -> int:
    """The line of a top-level key in a YAML text (1 when not found)."""
    found = re.search(rf"^['\"]?{re.escape(key)}['\"]?\s*:", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _static(config: dict[str, Any], now: datetime) -> tuple[dict[str, Any], list[str]]:
    """A merged config as YAML can hold it exactly: dates as text, relative
    start dates as the date they mean today; keys dag-factory ignores left out."""
    said = []
    config = {k: v for k, v in config.items() if not (k == "task_groups" and v == {})}
    for key, why in IGNORED_KEYS.items():
        if key in config:
            del config[key]
            said.append(f"left out {key} ({why})")
    if config.get("default_args") == {}:
        del config["default_args"]
    said += _inline_doc_md(config)
    # dag-factory tags every DAG it builds; the spec says so where all can see.
    tags = config.get("tags") or []
    config["tags"] = tags if "dagfactory" in tags else [*tags, "dagfactory"]
    for holder, timezone in (
        (config, config.get("timezone")),
        (
            config.get("default_args") or {},
            (config.get("default_args") or {}).get("timezone"),
        ),
    ):
        for key in ("start_date", "end_date"):
            if key in holder and holder[key] is not None:
                holder[key], note = _date_text(holder[key], timezone, now)
                if note:
                    said.append(f"{key} {note}")
    return {str(k): _texts(v) for k, v in config.items()}, said


def _inline_doc_md(config: dict[str, Any]) -> list[str]:
    """`doc_md_file_path` becomes the file's text in `doc_md`."""
    path = config.get("doc_md_file_path")
    if not isinstance(path, str):
        return []
    try:  # relative to the working folder, as dag-factory opens it
        config["doc_md"] = Path(path).read_text(encoding="utf-8")
    except OSError as error:  # left in: the spec's check refuses it
        return [f"doc_md_file_path: cannot read {path}: {error.strerror}"]
    del config["doc_md_file_path"]
    return [f"doc_md is the text of {path}, which dag-factory reads at every parse"]


def _date_text(value: object, timezone: object, now: datetime) -> tuple[object, str]:
    """A date as text; a relative one (`2 days`) as the date it means today
    in the DAG's timezone, counted back from midnight as dag-factory does."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(), ""
    if isinstance(value, date):
        return value.isoformat(), ""
    if not isinstance(value, str):
        return value, ""
    try:
        datetime.fromisoformat(value)
        return value, ""
    except ValueError:
        pass
    parts = dagvalues.relative_time(value)
    if parts is None:
        return value, ""
    zone = str(timezone or "UTC")
    try:
        today = now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):  # the spec's check names the zone
        today = now.astimezone(UTC).date()
    when = datetime.combine(today, datetime.min.time()) - timedelta(**parts)
    text = (
        when.date().isoformat()
        if when.time() == datetime.min.time()
        else when.isoformat()
    )
    return text, (
        f"{value!r} moves every day (dag-factory counts back from the day of each "
        f"parse, so Airflow 3 stores a new DAG version daily); wrote {text!r}, "
        f"what it means today in {zone}"
    )


def _texts(value: object) -> object:
    """Dates anywhere as ISO text: YAML would write them as timestamps."""
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_texts(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def refusal(config: Mapping[str, Any]) -> str | None:
    """Why dag-factory 1.1.0 refuses a DAG on Airflow 3, or None."""
    for key, why in REFUSED_KEYS.items():
        if key in config:
            return why
    for module, why in REMOVED_MODULES.items():
        if any(path.startswith(f"{module}.") for path in _dotted_paths(config)):
            return why
    for key, value in _pairs(config):
        if key.endswith("_callback") and isinstance(value, list):
            return f"dag-factory 1.1.0 takes one callback per {key}, not a list"
    return None


def _dotted_paths(value: object) -> Iterator[str]:
    """Every string value that may be an import path."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _dotted_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from _dotted_paths(item)
    elif isinstance(value, str) and "." in value:
        yield value


def modules_of(config: Mapping[str, Any]) -> set[str]:
    """The modules outside Airflow and the standard library that a DAG's
    callables and classes come from: they must be importable where Airflow parses."""
    found = set()
    keys = ("operator", "decorator", "python_callable", "callback", "__type__")
    for key, value in _pairs(config):
        if isinstance(value, str) and (key in keys or key.endswith("_callback")):
            top = value.split(".")[0]
            if "." in value and top not in {"airflow", *sys.stdlib_module_names}:
                found.add(value.rpartition(".")[0])
        if key.endswith("_file") and isinstance(value, str) and value.endswith(".py"):
            found.add(f"{Path(value).stem} (loaded by dag-factory from {value})")
    return found


def _pairs(value: object) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key), item
            yield from _pairs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pairs(item)


def _namespace(config: Path) -> str:
    """The namespace of a config's DAGs: its file name without the suffix."""
    stem = config.name.rsplit(".", 1)[0]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip(".") or "dags"
    return name if re.fullmatch(NAME_PATTERN, name) else "dags"


def plan_import(
    files: list[tuple[Path, ConfigFile]],
    specs: str,
    existing: Callable[[str], str | None],
) -> ImportPlan:
    """The specs the configs become, what the import says, and what it refuses.

    A dag_id defined twice (dag-factory lets the last one win, silently) is
    refused in both places."""
    first: dict[str, str] = {}
    twice: dict[str, list[str]] = {}
    for _, config in files:
        for dag_id, _, line in config.dags:
            where = f"{config.shown}:{line}"
            if dag_id in first:
                twice.setdefault(dag_id, [first[dag_id]]).append(where)
            first.setdefault(dag_id, where)
    out: dict[str, str] = {}
    lines: list[str] = []
    skipped: list[Problem] = []
    modules: set[str] = set()
    for path, config in files:
        if config.problem:
            problem = Problem(Position(config.shown), f"left alone: {config.problem}")
            skipped.append(problem)
            continue
        lines += [f"note      {config.shown}: {note}" for note in config.notes]
        for dag_id, dag, line in config.dags:
            target = f"{specs}/{_namespace(path)}/{dag_id}.yaml"
            text, why = _spec(dag_id, dag, path, config.shown, twice)
            if why is None and existing(target) is not None:
                why = f"{target} exists"
            if why is not None or text is None:
                at = Position(config.shown, line)
                skipped.append(Problem(at, f"left alone: {dag_id}: {why}"))
                continue
            out[target] = text
            modules |= modules_of(dag)
            lines.append(f"spec      {target}  (from {config.shown}:{line})")
    lines += [
        f"module    {module}: keep it importable where Airflow parses (see the README)"
        for module in sorted(modules)
    ]
    return ImportPlan(out, tuple(lines), tuple(skipped))


def _spec(
    dag_id: str,
    dag: dict[str, Any],
    path: Path,
    shown: str,
    twice: Mapping[str, list[str]],
) -> tuple[str | None, str | None]:
    """A DAG's spec text, or why it is not imported."""
    why = _why_not(dag_id, dag, twice)
    if why is not None:
        return None, why
    data = {
        "dag_id": dag_id,
        "template": dagcode.TEMPLATE,
        "namespace": _namespace(path),
        "master_dict": dag,
    }
    text = spec_yaml(data, shown)
    if text is None:
        return None, "YAML cannot hold its values exactly"
    return text, _invalid(text, shown)


def _why_not(
    dag_id: str, dag: Mapping[str, Any], twice: Mapping[str, list[str]]
) -> str | None:
    """Why a DAG is not imported: defined twice, refused by dag-factory, or
    invalid for dagsmith/tasks."""
    if dag_id in twice:
        return f"defined {len(twice[dag_id])} times: {' and '.join(twice[dag_id])}"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", dag_id):
        return "is not a valid Airflow dag_id"
    refused = refusal(dag)
    if refused:
        return f"dag-factory refuses it on Airflow 3: {refused}"
    return None


def _invalid(text: str, target: str) -> str | None:
    """What dagsmith/tasks refuses in a spec: its contract, then dagcode's checks."""
    from ..contracts import check_contract
    from ..validate import check_declared_dag
    from ..yamlpos import parse_documents

    (document,), _ = parse_documents(text, target)
    template, validator = _builtin()
    assert template.contract is not None
    problems = check_contract(document, template.contract, validator)
    problems = problems or check_declared_dag(document)
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0].message}{more}"


@cache
def _builtin() -> tuple[Template, Any]:
    """dagsmith/tasks and its contract's validator, made once."""
    from ..contracts import contract_validator
    from ..load import pack_templates
    from ..packs import installed_packs

    pack = installed_packs().get(dagcode.PACK)
    template = pack_templates(pack).get(dagcode.TEMPLATE) if pack else None
    if template is None or template.contract is None:
        raise InputError(
            [
                Problem(
                    Position(dagcode.TEMPLATE, 0, 0),
                    f"dagsmith's own pack is not installed ({pack and pack.problem}); "
                    "reinstall dagsmith",
                )
            ]
        )
    return template, contract_validator(template.contract)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
