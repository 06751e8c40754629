"""The build's data: the plain, frozen values every stage of the pipeline shares.

Where things are and what is wrong there is `errors.py`'s; the cache's entries
are `cache.py`'s; Airflow's runs are `airflow/client.py`'s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from .errors import Position, Problem

# The committed record of the output folder: the tool and the digests that
# produced it (see cache.py). Not a .py file: Airflow never parses it.
RECORD = ".dagsmith-record"

# A path into a YAML document: the keys and list indexes from its root.
ValuePath = tuple[Any, ...]


@dataclass(frozen=True)
class Document:
    """One YAML document, loaded with the position of every key and value.

    `data` is the document after `_defaults.yaml` files were applied;
    `positions` maps a value path to where that value was written (which may
    be in a defaults file), `key_positions` to where its key was written.
    """

    path: str
    index: int
    data: Any
    positions: Mapping[ValuePath, Position]
    key_positions: Mapping[ValuePath, Position]

    @property
    def start(self) -> Position:
        """Where the document begins."""
        return self.positions.get((), Position(self.path))

    def position_of(self, path: ValuePath, *, key: bool = False) -> Position:
        """The nearest known position of a value (or its key) in the document."""
        table = self.key_positions if key else self.positions
        for end in range(len(path), -1, -1):
            if path[:end] in table:
                return table[path[:end]]
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return self.start


# How every Jinja2 template is tokenized, both to render it and to find what it
# includes: blocks take their own line, and a file keeps its last newline.
class JinjaSyntax(TypedDict):
    """The Jinja2 options that change how a template is tokenized."""

    trim_blocks: bool
    lstrip_blocks: bool
    keep_trailing_newline: bool


JINJA_SYNTAX: JinjaSyntax = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


@dataclass(frozen=True)
class Template:
    """A template file and, when it has one, its `master_dict` contract."""

    name: str
    kind: Literal["jinja", "legacy"]
    path: str
    source: str
    contract: Document | None = None


@dataclass(frozen=True)
class Pack:
    """An installed template pack: templates named `NAME/TEMPLATE` (see packs.py)."""

    name: str
    distribution: str
    version: str
    folder: Path | None  # where its templates are; None when it cannot be used
    problem: str = ""  # why it cannot be used

    @property
    def label(self) -> str:
        """`acme-templates 1.2.0`: what to pin."""
        return f"{self.distribution} {self.version}"


@dataclass(frozen=True, eq=False)
class TemplateSet:
    """Every template a project can use: the files under `templates/` and the
    installed packs' templates (`PACK/NAME`), with their partials.

    Compared and hashed by identity: one run loads one set, and caches key on it.
    """

    templates: Mapping[str, Template]
    # Every Jinja2 source by its loader name, for includes: relative to
    # templates/ for the project's, `PACK/relative` for a pack's.
    jinja_sources: Mapping[str, str]
    root: str
    # When the templates folder is not there: the problem that says so, for a
    # spec that names a template of its own.
    missing: Problem | None = None
    packs: Mapping[str, Pack] = field(default_factory=dict)
    # Packs the committed record names (name: (distribution, version)), to say
    # what to install when one is missing.
    recorded: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def pack_of(self, name: str) -> Pack | None:
        """The pack a template, source or shown path belongs to, if any."""
        head, slash, _ = name.partition("/")
        return self.packs.get(head) if slash else None

    def shown(self, source: str) -> str:
        """A Jinja2 source's name as errors show it: `templates/x.j2`, `acme/x.j2`."""
        return source if self.pack_of(source) else f"{self.root}/{source}"

    def join(self, reference: str, parent: str) -> str:
        """The source an include, import or extends names: inside a pack,
        relative to the pack's folder; in the project, relative to templates/."""
        pack = self.pack_of(parent)
        return f"{pack.name}/{reference}" if pack else reference


@dataclass(frozen=True)
class Spec:
    """A validated spec: one DAG to generate."""

    dag_id: str
    template: str
    namespace: str
    master_dict: Mapping[Any, Any]
    document: Document = field(compare=False)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The environment this DAG is for; "" in a project that declares none.
    environment: str = ""

    @property
    def path(self) -> str:
        """The spec file, relative to the project root."""
        return self.document.path

    @property
    def output(self) -> str:
        """The output file, relative to the output folder: under the
        environment's folder when there is one."""
        return output_path(self.environment, self.namespace, self.dag_id)

    @property
    def label(self) -> str:
        """`dag_id X`, or `dag_id X in prod`: how messages name this DAG."""
        where = f" in {self.environment}" if self.environment else ""
        return f"dag_id {self.dag_id}{where}"


def output_path(environment: str, namespace: str, dag_id: str) -> str:
    """Where a DAG's file goes, relative to the output folder."""
    if environment:
        return f"{environment}/{namespace}/{dag_id}.py"
    return f"{namespace}/{dag_id}.py"


def environment_of(path: str, environments: tuple[str, ...]) -> str:
    """The environment an output path (relative to the output folder) belongs to."""
    top = path.partition("/")[0]
    return top if environments and top in environments else ""


@dataclass(frozen=True)
class Output:
    """A finished output file: relative path and exact bytes."""

    path: str
    content: bytes
    spec: str = ""


ChangeKind = Literal["create", "update", "remove", "unchanged"]


@dataclass(frozen=True)
class Change:
    """One file that a plan creates, updates, removes or leaves as it is."""

    kind: ChangeKind
    path: str
    old: bytes | None
    new: bytes | None

    @property
    def is_dag(self) -> bool:
        """Whether the file is a DAG file, rather than the folder's record."""
        return self.path.endswith(".py")


@dataclass(frozen=True)
class Plan:
    """The difference between the wanted outputs and the output folder."""

    out: str
    changes: tuple[Change, ...]
    # Why outputs change beyond their specs: `templates from acme 1.3.0; ...`
    notes: tuple[str, ...] = ()

    def shown(self, path: str) -> str:
        """A path of the plan as users see it: under `out`, relative to the root."""
        return path if self.out == "." else f"{self.out}/{path}"

    def of_kind(self, kind: ChangeKind) -> tuple[Change, ...]:
        """The changes of one kind, in path order."""
        return tuple(c for c in self.changes if c.kind == kind)

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes that would alter the folder."""
        return tuple(c for c in self.changes if c.kind != "unchanged")


@dataclass(frozen=True)
class SpecSource:
    """One spec or defaults file as read: its text, or why it could not be read."""

    path: str
    folder: Path
    text: str | None
    problem: Problem | None


@dataclass(frozen=True)
class SpecSources:
    """Every spec file, and the defaults file of each folder that has one."""

    specs: tuple[SpecSource, ...]
    defaults: Mapping[Path, SpecSource]
    problems: tuple[Problem, ...]
    chains: Mapping[Path, tuple[SpecSource, ...]] = field(default_factory=dict)

    def chain(self, source: SpecSource) -> tuple[SpecSource, ...]:
        """The defaults files that apply to a spec file, outermost first."""
        return self.chains.get(source.folder, ())
