"""Read spec files (with `_defaults.yaml`) and templates: the pipeline's input edge."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Settings
from .model import Document, Position, Problem, Template, TemplateSet, ValuePath
from .yamlpos import parse_documents

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULTS_NAME = "_defaults.yaml"
JINJA_SUFFIX = ".py.j2"
LEGACY_SUFFIX = ".template"
CONTRACT_SUFFIX = ".schema.yaml"
# The keys whose mappings `_defaults.yaml` merges into, rather than replaces.
DEEP_MERGED = ("master_dict", "params")


@dataclass(frozen=True)
class LoadedSpecs:
    """Spec documents with defaults applied, the defaults files, and what failed."""

    documents: tuple[Document, ...]
    defaults: tuple[Document, ...]
    problems: tuple[Problem, ...]


def walk_files(folder: Path) -> Iterator[Path]:
    """Every file under a folder, in a stable order, not following folder symlinks."""
    for current, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            yield Path(current) / name


def read_text(path: Path, settings: Settings) -> tuple[str | None, Problem | None]:
    """A file's UTF-8 text, refusing files that resolve outside the project."""
    shown = settings.display(path)
    real = path.resolve()
    if not real.is_relative_to(settings.root.resolve()):
        return None, Problem(
            Position(shown), "is a symlink to a file outside the project; refused"
        )
    try:
        data = real.read_bytes()
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


def _merge(
    base: Document, over: Document
) -> tuple[Any, dict[ValuePath, Position], dict[ValuePath, Position]]:
    """Values of `over` on top of `base`; mappings under DEEP_MERGED merge key by key."""
    positions = dict(base.positions)
    key_positions = dict(base.key_positions)

    def take(path: ValuePath) -> None:
        for table, source in (
            (positions, over.positions),
            (key_positions, over.key_positions),
        ):
            for stale in [p for p in table if p[: len(path)] == path]:
                del table[stale]
            table.update({p: v for p, v in source.items() if p[: len(path)] == path})

    def merge(old: Any, new: Any, path: ValuePath, deep: bool) -> Any:
        if not (isinstance(old, Mapping) and isinstance(new, Mapping)):
            take(path)
            return new
        # The merged mapping itself is where the overriding document wrote it.
        for table, source in (
            (positions, over.positions),
            (key_positions, over.key_positions),
        ):
            if path in source:
                table[path] = source[path]
        merged = dict(old)
        for key, value in new.items():
            child = (*path, key)
            if deep and key in merged:
                merged[key] = merge(merged[key], value, child, deep)
            elif path == () and key in DEEP_MERGED and key in merged:
                merged[key] = merge(merged[key], value, child, True)
            else:
                take(child)
                merged[key] = value
        return merged

    return merge(base.data, over.data, (), False), positions, key_positions


def apply_defaults(document: Document, chain: list[Document]) -> Document:
    """The document with every defaults file of its folders under it, nearest last."""
    if not chain or not isinstance(document.data, Mapping):
        return document
    base = chain[0]
    for defaults in [*chain[1:], document]:
        data, positions, key_positions = _merge(base, defaults)
        base = Document(document.path, document.index, data, positions, key_positions)
    return base


def load_specs(settings: Settings) -> LoadedSpecs:
    """Every spec document under the specs folder, with its defaults applied."""
    documents: list[tuple[Path, Document]] = []
    defaults: dict[Path, Document] = {}
    problems: list[Problem] = []
    if not settings.specs.is_dir():
        problems.append(
            Problem(
                Position(settings.display(settings.specs)), "specs folder not found"
            )
        )
        return LoadedSpecs((), (), tuple(problems))
    for path in walk_files(settings.specs):
        if path.name != DEFAULTS_NAME and not path.name.endswith(SPEC_SUFFIXES):
            continue
        text, problem = read_text(path, settings)
        if problem is not None or text is None:
            problems.extend([problem] if problem else [])
            continue
        found, failed = parse_documents(text, settings.display(path))
        problems.extend(failed)
        if path.name == DEFAULTS_NAME:
            if len(found) > 1:
                problems.append(
                    Problem(found[1].start, "a defaults file holds one document")
                )
            if found:
                defaults[path.parent] = found[0]
        elif not found and not failed:
            problems.append(
                Problem(Position(settings.display(path)), "holds no spec: it is empty")
            )
        else:
            documents.extend((path.parent, document) for document in found)
    resolved = []
    for folder, document in documents:
        chain = [
            defaults[f] for f in (*reversed(folder.parents), folder) if f in defaults
        ]
        resolved.append(apply_defaults(document, chain))
    return LoadedSpecs(tuple(resolved), tuple(defaults.values()), tuple(problems))


def template_name(relative: str) -> tuple[str, str] | None:
    """(name, kind) of a selectable template file at the top of templates/, or None."""
    if "/" in relative:
        return None
    if relative.endswith(JINJA_SUFFIX):
        return relative[: -len(JINJA_SUFFIX)], "jinja"
    if relative.endswith(LEGACY_SUFFIX):
        return relative[: -len(LEGACY_SUFFIX)], "legacy"
    return None


def load_templates(settings: Settings) -> tuple[TemplateSet, tuple[Problem, ...]]:
    """Every template, partial and contract under the templates folder."""
    problems: list[Problem] = []
    jinja_sources: dict[str, str] = {}
    found: dict[str, list[tuple[str, str, str]]] = {}
    contracts: dict[str, Document] = {}
    folder = settings.templates
    if not folder.is_dir():
        problems.append(
            Problem(Position(settings.display(folder)), "templates folder not found")
        )
    for path in walk_files(folder) if folder.is_dir() else ():
        relative = path.relative_to(folder).as_posix()
        is_contract = "/" not in relative and relative.endswith(CONTRACT_SUFFIX)
        named = template_name(relative)
        if not (is_contract or named or relative.endswith(".j2")):
            continue
        text, problem = read_text(path, settings)
        if problem is not None or text is None:
            problems.extend([problem] if problem else [])
            continue
        shown = settings.display(path)
        if relative.endswith(".j2"):
            jinja_sources[relative] = text
        if named:
            name, kind = named
            found.setdefault(name, []).append((kind, shown, text))
        if is_contract:
            documents, failed = parse_documents(text, shown)
            problems.extend(failed)
            if documents:
                contracts[relative[: -len(CONTRACT_SUFFIX)]] = documents[0]
    templates = {}
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
    return TemplateSet(templates, jinja_sources, settings.display(folder)), tuple(
        problems
    )


def load_outputs(folder: Path) -> dict[str, bytes]:
    """Every `.py` file in an output (or dags) folder, by path relative to it."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in walk_files(folder)
        if path.suffix == ".py" and not path.name.startswith(".")
    }
