"""Read spec files (with `_defaults.yaml`) and templates: the pipeline's input edge."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import Position, Problem
from .merge import apply_defaults
from .model import (
    RECORD,
    Document,
    Pack,
    SpecSource,
    SpecSources,
    Template,
    TemplateSet,
)
from .yamlpos import parse_documents

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULTS_NAME = "_defaults.yaml"
JINJA_SUFFIX = ".py.j2"
LEGACY_SUFFIX = ".template"
CONTRACT_SUFFIX = ".schema.yaml"


@dataclass(frozen=True)
class LoadedSpecs:
    """Spec documents with defaults applied, the defaults files, and what failed."""

    documents: tuple[Document, ...]
    defaults: tuple[Document, ...]
    problems: tuple[Problem, ...]


def walk_relative(folder: Path) -> Iterator[str]:
    """Every file under a folder as a relative `/` path, in a stable order, not
    following folder symlinks. Strings, not Paths: this runs for every file."""
    top = os.fspath(folder)
    for current, folders, files in os.walk(top):
        folders.sort()
        prefix = os.path.relpath(current, top).replace(os.sep, "/") + "/"
        prefix = "" if prefix == "./" else prefix
        for name in sorted(files):
            yield prefix + name


def walk_files(folder: Path) -> Iterator[Path]:
    """Every file under a folder, in a stable order, not following folder symlinks."""
    for relative in walk_relative(folder):
        yield folder / relative


def links_out(settings: Settings) -> bool:
    """Whether the specs or templates folder itself is a symlink, so may lead outside."""
    return settings.specs.is_symlink() or settings.templates.is_symlink()


def read_text(
    path: Path | str,
    settings: Settings,
    outside_ok: bool = False,
    linked: bool | None = None,
    shown: str | None = None,
) -> tuple[str | None, Problem | None]:
    """A file's UTF-8 text, refusing files that resolve outside the project.

    `linked` is links_out(settings) and `shown` settings.display(path), for
    callers that read many files.
    """
    shown = shown or settings.display(path)
    # Folders are walked without following links, so only a linked file (or a
    # linked root folder) can lead outside: resolve just those.
    if linked is None:
        linked = links_out(settings)
    if not outside_ok and (linked or os.path.islink(path)):
        real = Path(path).resolve()
        if not real.is_relative_to(settings.root.resolve()):
            return None, Problem(
                Position(shown), "is a symlink to a file outside the project; refused"
            )
    return read_utf8(path, shown)


def read_utf8(path: Path | str, shown: str) -> tuple[str | None, Problem | None]:
    """A file's UTF-8 text, or the problem that says why it cannot be had."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        return None, Problem(Position(shown), f"cannot read: {error.strerror}")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - before.rfind(b"\n")
        return None, Problem(
            Position(shown, line, column),
            f"is not UTF-8 text (byte 0x{data[error.start]:02x}); save it as UTF-8",
        )


def read_spec_sources(settings: Settings) -> SpecSources:
    """The text of every spec and defaults file under the specs folder."""
    if not settings.specs.is_dir():
        return SpecSources((), {}, (settings.not_found("specs"),))
    specs, defaults = [], {}
    linked = links_out(settings)
    top = os.fspath(settings.specs)
    base = settings.display(settings.specs)
    base = "" if base == "." else base + "/"
    folders: dict[str, Path] = {}
    for relative in walk_relative(settings.specs):
        directory, _, name = relative.rpartition("/")
        if name != DEFAULTS_NAME and not name.endswith(SPEC_SUFFIXES):
            continue
        if directory not in folders:
            folders[directory] = settings.specs / directory
        path = os.path.join(top, relative)
        shown = base + relative
        text, problem = read_text(path, settings, linked=linked, shown=shown)
        source = SpecSource(shown, folders[directory], text, problem)
        if name == DEFAULTS_NAME:
            defaults[source.folder] = source
        else:
            specs.append(source)
    chains = {}
    for folder in {s.folder for s in specs}:
        outer = (*reversed(folder.parents), folder)
        chains[folder] = tuple(defaults[f] for f in outer if f in defaults)
    return SpecSources(tuple(specs), defaults, (), chains)


def _parse(source: SpecSource) -> tuple[list[Document], list[Problem]]:
    """A file's documents, and the problems that kept others out."""
    if source.problem is not None or source.text is None:
        return [], [source.problem] if source.problem else []
    return parse_documents(source.text, source.path)


def parse_defaults(sources: SpecSources) -> tuple[dict[Path, Document], list[Problem]]:
    """The defaults document of each folder that has one, and their problems."""
    problems = []
    defaults: dict[Path, Document] = {}
    for folder, source in sources.defaults.items():
        found, failed = _parse(source)
        problems += failed
        if len(found) > 1:
            problems.append(
                Problem(found[1].start, "a defaults file holds one document")
            )
        if found:
            defaults[folder] = found[0]
    return defaults, problems


def parse_files(
    sources: SpecSources,
    files: Iterable[SpecSource],
    defaults: Mapping[Path, Document],
) -> tuple[list[Document], list[Problem]]:
    """The documents of some spec files with their defaults applied, and the
    problems that kept others out."""
    documents, problems = [], []
    for source in files:
        found, failed = _parse(source)
        problems += failed
        if not found and source.text is not None and not failed:
            problems.append(
                Problem(Position(source.path), "holds no spec: it is empty")
            )
        chain = [
            defaults[s.folder] for s in sources.chain(source) if s.folder in defaults
        ]
        documents += [apply_defaults(document, chain) for document in found]
    return documents, problems


def parse_specs(sources: SpecSources) -> LoadedSpecs:
    """Every spec document with its defaults applied."""
    defaults, failed = parse_defaults(sources)
    documents, problems = parse_files(sources, sources.specs, defaults)
    return LoadedSpecs(
        tuple(documents),
        tuple(defaults.values()),
        (*sources.problems, *failed, *problems),
    )


def load_specs(settings: Settings) -> LoadedSpecs:
    """Every spec document under the specs folder, with its defaults applied."""
    return parse_specs(read_spec_sources(settings))


def template_name(relative: str) -> tuple[str, str] | None:
    """(name, kind) of a selectable template file at the top of templates/, or None."""
    if "/" in relative:
        return None
    if relative.endswith(JINJA_SUFFIX):
        return relative[: -len(JINJA_SUFFIX)], "jinja"
    if relative.endswith(LEGACY_SUFFIX):
        return relative[: -len(LEGACY_SUFFIX)], "legacy"
    return None


@dataclass
class _Found:
    """What a folder of templates holds, before templates meet their contracts."""

    templates: dict[str, list[tuple[str, str, str]]]  # name: [(kind, shown, text)]
    sources: dict[str, str]  # Jinja2 sources by loader name
    contracts: dict[str, Document]
    problems: list[Problem]


def _scan(
    folder: Path,
    prefix: str,
    shown_of: Callable[[str], str],
    read: Callable[[Path, str], tuple[str | None, Problem | None]],
    refused: Callable[[str], str | None] = lambda relative: None,
) -> _Found:
    """Templates (`NAME.py.j2`, `NAME.template`), contracts and partials of a
    folder, named `prefix + relative`; `refused` says why a file is not read."""
    found = _Found({}, {}, {}, [])
    for relative in walk_relative(folder) if folder.is_dir() else ():
        is_contract = "/" not in relative and relative.endswith(CONTRACT_SUFFIX)
        named = template_name(relative)
        if not (is_contract or named or relative.endswith(".j2")):
            continue
        shown = shown_of(relative)
        if why := refused(relative):
            found.problems.append(Problem(Position(shown), why))
            continue
        text, problem = read(folder / relative, shown)
        if problem is not None or text is None:
            found.problems.extend([problem] if problem else [])
            continue
        if relative.endswith(".j2"):
            found.sources[prefix + relative] = text
        if named:
            found.templates.setdefault(prefix + named[0], []).append(
                (named[1], shown, text)
            )
        if is_contract:
            documents, failed = parse_documents(text, shown)
            found.problems.extend(failed)
            if documents:
                found.contracts[prefix + relative[: -len(CONTRACT_SUFFIX)]] = documents[
                    0
                ]
    return found


def scan_pack(pack: Pack) -> _Found:
    """A pack's templates, contracts and partials, named `PACK/relative`."""
    if pack.folder is None:
        return _Found({}, {}, {}, [])
    return _scan(pack.folder, f"{pack.name}/", lambda r: f"{pack.name}/{r}", read_utf8)


def pack_templates(pack: Pack) -> dict[str, Template]:
    """A pack's templates with their contracts, by name (`PACK/NAME`)."""
    found = scan_pack(pack)
    return _pair(found.templates, found.contracts)[0]


def load_templates(
    settings: Settings, recorded: Mapping[str, tuple[str, str]] | None = None
) -> tuple[TemplateSet, tuple[Problem, ...]]:
    """Every template, partial and contract under the templates folder, and
    those of every installed pack (`PACK/NAME`; dagsmith's own is `dagsmith`).

    A project that uses only packs needs no templates folder: a missing one is
    said only when a spec names a template of its own. A problem in a pack's
    file counts only where a spec uses that pack (`pipeline.counted_problems`).
    `recorded` is the packs the committed record names.
    """
    from .packs import installed_packs

    folder = settings.templates
    shown_root = settings.display(folder)
    packs = installed_packs()
    linked = links_out(settings)

    def refused(relative: str) -> str | None:
        head = relative.partition("/")[0]
        if "/" not in relative or head not in packs:
            return None
        return (
            f"{shown_root}/{head}/ has the name of the installed pack {head!r} "
            f"({packs[head].label}), whose templates are named {head}/NAME; "
            "rename the folder"
        )

    scanned = [
        _scan(
            folder,
            "",
            lambda relative: settings.display(folder / relative),
            lambda path, shown: read_text(path, settings, linked=linked, shown=shown),
            refused,
        )
    ]
    scanned += [scan_pack(pack) for pack in packs.values()]
    found: dict[str, list[tuple[str, str, str]]] = {}
    contracts: dict[str, Document] = {}
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    for each in scanned:
        found.update(each.templates)
        contracts.update(each.contracts)
        sources.update(each.sources)
        problems += each.problems
    templates, paired = _pair(found, contracts)
    missing = None if folder.is_dir() else settings.not_found("templates")
    return (
        TemplateSet(
            templates, sources, shown_root, missing, packs, dict(recorded or {})
        ),
        (*problems, *paired),
    )


def _pair(
    found: Mapping[str, list[tuple[str, str, str]]], contracts: dict[str, Document]
) -> tuple[dict[str, Template], list[Problem]]:
    """Each template with its contract; a name defined twice, or a contract with
    no template, is a problem."""
    templates, problems = {}, []
    for name, variants in sorted(found.items()):
        if len(variants) > 1:
            paths = " and ".join(v[1] for v in variants)
            problems.append(
                Problem(
                    Position(variants[1][1]),
                    f"template {name!r} is defined twice: {paths}",
                )
            )
        kind, shown, text = variants[0]
        templates[name] = Template(
            name,
            "jinja" if kind == "jinja" else "legacy",
            shown,
            text,
            contracts.pop(name, None),
        )
    for name, contract in sorted(contracts.items()):
        problems.append(
            Problem(
                contract.start, f"contract for template {name!r}, which does not exist"
            )
        )
    return templates, problems


def load_outputs(folder: Path) -> dict[str, bytes]:
    """Every `.py` file in an output (or dags) folder, and its record, by path
    relative to it."""
    if not folder.is_dir():
        return {}
    top = os.fspath(folder)
    found = {}
    for relative in walk_relative(folder):
        name = relative.rpartition("/")[2]
        if (name.endswith(".py") and not name.startswith(".")) or relative == RECORD:
            with open(os.path.join(top, relative), "rb") as file:
                found[relative] = file.read()
    return found


def read_own_code(package: Path = Path(__file__).parent) -> list[bytes]:
    """dagsmith's own modules, subpackages' too, each with its path, in path
    order: what this copy of the tool is."""
    return [
        path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes()
        for path in sorted(package.rglob("*.py"))
    ]


def read_caches(folder: Path) -> dict[str, str]:
    """Every file of the local cache folder by name (one per tool key; usually one)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}
    return {name: read_local_text(folder / name) for name in names}


def read_local_text(path: Path) -> str:
    """A local file's text (the cache, a template to compare); empty when unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def in_the_way(root: Path, relatives: Iterable[str]) -> dict[str, str]:
    """What stands where new files would go: the project's edge, the file
    itself, or a file in place of one of its folders. Keyed by the new file's
    path as shown: relative to root, or absolute when outside it."""
    found = {}
    for relative in relatives:
        target = root / relative
        if not Path(os.path.normpath(target)).is_relative_to(root):
            found[relative] = (
                f"is outside the project ({root}), and dagsmith writes only inside "
                "it; point the folder inside the project"
            )
        elif target.exists() or target.is_symlink():
            found[relative] = "already exists; not overwritten"
        elif blocked := _file_in_place_of_a_folder(root, target):
            found[relative] = (
                f"{blocked} is a file, so its folder cannot be made; move it away"
            )
    return found


def _file_in_place_of_a_folder(root: Path, target: Path) -> str | None:
    """The first folder on the way to `target` that is a file, relative to root."""
    for parent in reversed(target.relative_to(root).parents[:-1]):
        if (root / parent).exists() and not (root / parent).is_dir():
            return parent.as_posix()
    return None
