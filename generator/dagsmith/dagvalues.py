"""Config values as dag-factory reads them, written as Python expressions.

dag-factory's loader builds `__type__` objects and combines `__and__`,
`__or__` and `__join__` as it reads a file; its DagBuilder reads dates,
durations, callbacks and assets. `ConfigValues` does the same at build
time, turning each value into `pycode`'s expressions, and collects a problem
(its path in master_dict and a sentence) for each value dag-factory would
refuse or compute at parse time. `dagcode` builds the DAG on top of it.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .model import ValuePath
from .pycode import Attr, Call, Op, Ref, Writer, is_dotted

ASSET = Ref("airflow.sdk", "Asset")
PARTIAL = Ref("functools", "partial")
PENDULUM = Ref("", "pendulum")
TIMEDELTA = Ref("datetime", "timedelta")
CALLBACKS = (
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
)
RELATIVE_TIME = re.compile(
    r"((?P<hours>\d+?)\s+hour)?((?P<minutes>\d+?)\s+minute)?"
    r"((?P<seconds>\d+?)\s+second)?((?P<days>\d+?)\s+day)?",
    re.IGNORECASE,
)


@dataclass
class ConfigValues:
    """Reads one config's values, collecting problems rather than stopping."""

    problems: list[tuple[ValuePath, str]] = field(default_factory=list)
    writer: Writer = field(default_factory=lambda: Writer(reserved={"dag"}))

    def problem(self, path: ValuePath, message: str) -> None:
        self.problems.append((path, message))

    # Values

    def value(self, value: object, path: ValuePath) -> object:
        """A config value as dag-factory's loader leaves it: `__type__` objects
        built, `__and__`/`__or__` combined, `__join__` joined."""
        if isinstance(value, Mapping):
            if "__type__" in value:
                return self.typed(value, path)
            for key, op in (("__and__", "&"), ("__or__", "|")):
                if key in value:
                    return self.combined(value[key], op, (*path, key))
            if "__join__" in value:
                return self.joined(value["__join__"], (*path, "__join__"))
            return {k: self.value(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def typed(self, value: Mapping[str, Any], path: ValuePath) -> object:
        kind = value["__type__"]
        if not self.dotted(kind, (*path, "__type__")):
            return None
        if kind == "builtins.list" and "items" in value:
            return self.value(value["items"], (*path, "items"))
        args = value.get("__args__", [])
        if not isinstance(args, list):
            self.problem((*path, "__args__"), "__args__ must be a list")
            args = []
        kwargs = []
        for key, item in value.items():
            if key in ("__type__", "__args__"):
                continue
            if not (isinstance(key, str) and key.isidentifier()):
                self.problem((*path, key), f"{key!r} is not a keyword argument name")
                continue
            kwargs.append((key, self.value(item, (*path, key))))
        return Call(
            Ref.of(kind),
            tuple(self.value(a, (*path, "__args__", i)) for i, a in enumerate(args)),
            tuple(kwargs),
        )

    def combined(self, items: object, op: str, path: ValuePath) -> object:
        if not isinstance(items, list) or not items:
            self.problem(path, "expected a list of assets (each with __type__)")
            return None
        values = [self.value(v, (*path, i)) for i, v in enumerate(items)]
        if any(isinstance(v, str) for v in values):
            self.problem(path, "combines strings; write each asset with __type__")
        result = values[0]
        for item in values[1:]:
            result = Op(result, op, item)
        return result

    def joined(self, items: object, path: ValuePath) -> object:
        if not isinstance(items, list) or not all(
            isinstance(v, (str, int, float)) for v in items
        ):
            self.problem(path, "expected a list of strings and numbers to join")
            return ""
        return "".join(str(v) for v in items)

    def dotted(self, value: object, path: ValuePath) -> bool:
        if is_dotted(value):
            return True
        self.problem(path, f"{value!r} is not a dotted import path (like a.b.Name)")
        return False

    def reference(self, value: object, path: ValuePath) -> object:
        """A dotted path as the name it imports."""
        return Ref.of(str(value)) if self.dotted(value, path) else None

    def from_file(self, config: Mapping[str, Any], key: str, path: ValuePath) -> object:
        """`KEY_name` + `KEY_file`: dag-factory loads the file as a module named
        after it, so the callable is that module's name; its folder must be
        importable where Airflow parses (the dags or plugins folder)."""
        name, file = config[f"{key}_name"], config[f"{key}_file"]
        stem = str(file).rpartition("/")[2]
        if not (isinstance(file, str) and stem.endswith(".py")):
            self.problem((*path, f"{key}_file"), f"{file!r} is not a .py file")
            return None
        module = stem[: -len(".py")]
        return self.reference(f"{module}.{name}", (*path, f"{key}_name"))

    # Dates, durations, callbacks

    def date(self, value: object, timezone: object, path: ValuePath) -> object:
        """A start or end date as dag-factory reads it: the wall-clock time in
        the timezone (an offset in the text is replaced, not converted)."""
        tz = timezone if timezone is not None else "UTC"
        if not (isinstance(tz, str) and _known_timezone(tz)):
            self.problem(path, f"timezone {tz!r} is not a known timezone")
            return None
        if not isinstance(value, str):
            self.problem(path, f"expected a date string, got {value!r}")
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            relative = relative_time(value)
            said = (
                f"{value!r} is relative to the day Airflow parses the file, so the "
                "DAG would change every day; write the date itself ('2026-01-31')"
                if relative
                else f"{value!r} is not a date ('2026-01-31' or '2026-01-31T06:00')"
            )
            self.problem(path, said)
            return None
        parts = [when.year, when.month, when.day, when.hour, when.minute]
        parts += [when.second, when.microsecond]
        while len(parts) > 3 and parts[-1] == 0:
            parts.pop()
        return Call(Attr(PENDULUM, "datetime"), tuple(parts), (("tz", tz),))

    def duration(self, value: object, path: ValuePath) -> object:
        """`1 days`, `30 minutes`: dag-factory's relative time, as a timedelta."""
        parts = relative_time(value) if isinstance(value, str) else None
        if parts is None:
            self.problem(
                path, f"{value!r} is not a duration like '1 days' or '2 hours'"
            )
            return None
        return Call(TIMEDELTA, (), tuple(parts.items()))

    def callback(self, value: object, path: ValuePath) -> object:
        """A callback: a dotted path; `{callback: path, ...}` as a partial, or
        a Notifier class (a capitalized name) called with its parameters; a list."""
        if isinstance(value, list):
            return [self.callback(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str):
            return self.reference(value, path)
        if isinstance(value, Mapping) and "callback" in value:
            target = self.reference(value["callback"], (*path, "callback"))
            kwargs = tuple(
                (k, self.value(v, (*path, k)))
                for k, v in value.items()
                if k != "callback"
            )
            if isinstance(target, Ref) and target.name[:1].isupper():
                return Call(target, (), kwargs)
            return Call(PARTIAL, (target,), kwargs)
        self.problem(
            path, "a callback is a dotted path, a list, or {callback: path, ...}"
        )
        return None

    def callbacks(
        self, config: Mapping[str, Any], names: Sequence[str], path: ValuePath
    ) -> dict[str, object]:
        """The callbacks a mapping sets, by argument name."""
        found = {}
        for name in names:
            if config.get(name) is not None:
                found[name] = self.callback(config[name], (*path, name))
            if (
                config.get(f"{name}_name") is not None
                and config.get(f"{name}_file") is not None
            ):
                found[name] = self.from_file(config, name, path)
        return found

    def default_args(
        self, config: Mapping[str, Any], path: ValuePath
    ) -> dict[str, object]:
        """default_args with dates, callbacks and objects read."""
        if not isinstance(config, Mapping):
            self.problem(path, "default_args must be a mapping")
            return {}
        callback_keys = {f"{n}_{s}" for n in CALLBACKS for s in ("name", "file")}
        result: dict[str, object] = {}
        for key, item in config.items():
            if key in callback_keys and not _paired(config, key):
                result[key] = self.value(item, (*path, key))
            elif key in ("start_date", "end_date") and item is not None:
                result[key] = self.date(item, config.get("timezone"), (*path, key))
            elif key not in callback_keys:
                result[key] = self.value(item, (*path, key))
        for name, callback in self.callbacks(config, CALLBACKS, path).items():
            result[name] = callback
        return result

    def assets(self, value: object, path: ValuePath) -> object:
        if isinstance(value, Mapping) and "file" in value:
            self.problem(path, "assets read from a file at parse time; list their URIs")
            return None
        converted = self.value(value, path)
        if not isinstance(converted, list):
            return converted
        return [Call(ASSET, (v,)) if isinstance(v, str) else v for v in converted]


def _paired(config: Mapping[str, Any], key: str) -> bool:
    """Whether KEY_name or KEY_file has its other half (so dag-factory reads both)."""
    base, _, part = key.rpartition("_")
    other = f"{base}_{'file' if part == 'name' else 'name'}"
    return config.get(key) is not None and config.get(other) is not None


def relative_time(value: str) -> dict[str, int] | None:
    """dag-factory's relative time (`2 days`, `1 hours`), or None."""
    found = RELATIVE_TIME.match(value)
    if found is None or all(v is None for v in found.groupdict().values()):
        return None
    return {unit: int(n) for unit, n in found.groupdict().items() if n}


def _known_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return not zoneinfo.available_timezones()  # no database: cannot tell
    return True
