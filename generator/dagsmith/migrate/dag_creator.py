"""`dagsmith import`: an old dag_creator setup, its templates and the files
it generated, back into specs (rendering the tokens is `tokens.py`'s).

Each old `.template` becomes a pattern: its Python AST with `#DAG_ID` and
`#MASTER_DICT` as holes. A generated file matches a template when its AST is
the pattern's with every hole filled by a literal (the same value wherever a
token appears twice). Files are parsed with `ast`, never executed.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..config import Settings
from ..errors import InputError, Position, Problem
from ..literals import LiteralError, to_literal
from ..load import read_text, walk_files
from ..tokens import HOLES, LEGACY_TOKENS, TokenValues, fill_tokens, laid_out_template

_BY_NAME = {name: token for token, name in HOLES.items()}


@dataclass(frozen=True)
class Pattern:
    """A legacy template as an AST with holes."""

    name: str
    tree: ast.Module


@dataclass(frozen=True)
class Imported:
    """What one old generated file becomes, or why it stays where it is."""

    source: str
    namespace: str
    dag_id: str | None = None
    template: str | None = None
    master_dict: Any = None
    problem: str | None = None


@dataclass(frozen=True)
class OldFile:
    """A file the old dag_creator wrote: where it is shown, its namespace
    (its folder under the old dags folder) and its text."""

    shown: str
    namespace: str
    text: str


@dataclass(frozen=True)
class LegacyProject:
    """An old dag_creator setup: `.template` files, and the files made from them."""

    templates: Mapping[str, str]
    files: tuple[OldFile, ...]
    problems: tuple[Problem, ...]


def read_legacy(templates: Path, dags: Path, settings: Settings) -> LegacyProject:
    """Every old template by name, and every NAMESPACE/DAG.py under the old dags folder."""
    found, files, problems = {}, [], []
    for path in walk_files(templates):
        if path.suffix == ".template":
            text, problem = read_text(path, settings, outside_ok=True)
            problems += [problem] if problem else []
            if text is not None:
                found[path.stem] = text
    for path in walk_files(dags):
        if path.suffix != ".py" or "__pycache__" in path.parts:
            continue
        text, problem = read_text(path, settings, outside_ok=True)
        problems += [problem] if problem else []
        namespace = path.parent.relative_to(dags).as_posix()
        if text is not None:
            files.append(OldFile(settings.display(path), namespace, text))
    return LegacyProject(found, tuple(files), tuple(problems))


def pattern(name: str, source: str) -> Pattern | str:
    """A template's pattern, or why it cannot be one."""
    skeleton = LEGACY_TOKENS.sub(lambda m: HOLES[m.group(1)], source)
    try:
        return Pattern(name, ast.parse(skeleton))
    except SyntaxError as error:
        return f"is not Python once its tokens are holes: {error.msg} (line {error.lineno})"


def _match(expected: object, actual: object, holes: dict[str, ast.expr]) -> bool:
    if isinstance(expected, ast.Name) and expected.id in _BY_NAME:
        if not isinstance(actual, ast.expr):
            return False
        token = _BY_NAME[expected.id]
        if token in holes:
            return ast.dump(holes[token]) == ast.dump(actual)
        holes[token] = actual
        return True
    if isinstance(expected, ast.AST):
        if type(expected) is not type(actual):
            return False
        return all(
            _match(getattr(expected, f, None), getattr(actual, f, None), holes)
            for f in expected._fields
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_match(e, a, holes) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


def fill(pattern: Pattern, tree: ast.Module) -> dict[str, ast.expr] | None:
    """The expressions in a generated module's holes, if it matches the pattern."""
    holes: dict[str, ast.expr] = {}
    return holes if _match(pattern.tree, tree, holes) else None


def import_file(
    source: str, namespace: str, text: str, patterns: Mapping[str, Pattern]
) -> Imported:
    """Recover dag_id, template and master_dict from one old generated file."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        return Imported(source, namespace, problem=f"is not Python: {error.msg}")
    matches = {name: holes for name, p in patterns.items() if (holes := fill(p, tree))}
    if not matches:
        return Imported(source, namespace, problem="matches no template")
    if len(matches) > 1:
        names = ", ".join(sorted(matches))
        return Imported(
            source, namespace, problem=f"matches {len(matches)} templates: {names}"
        )
    ((name, holes),) = matches.items()
    try:
        values = {token: ast.literal_eval(node) for token, node in holes.items()}
    except ValueError:
        return Imported(
            source, namespace, problem="holds a value that is not a literal"
        )
    dag_id, master_dict = values.get("DAG_ID"), values.get("MASTER_DICT", {})
    if not isinstance(dag_id, str):
        return Imported(
            source, namespace, problem=f"its dag_id is not a string: {dag_id!r}"
        )
    if not isinstance(master_dict, dict):
        return Imported(source, namespace, problem="its master_dict is not a dict")
    try:
        to_literal(master_dict)
    except LiteralError as error:
        return Imported(source, namespace, problem=f"master_dict: {error.message}")
    return Imported(source, namespace, dag_id, name, master_dict)


def spec_text(imported: Imported) -> str | None:
    """The YAML of an imported spec; None when YAML cannot hold its values exactly."""
    data = {
        "dag_id": imported.dag_id,
        "template": imported.template,
        "namespace": imported.namespace,
        "master_dict": imported.master_dict,
    }
    return spec_yaml(data, imported.source)


def spec_yaml(data: Mapping[str, Any], source: str) -> str | None:
    """A spec's YAML, headed by where it was imported from; None when YAML
    cannot hold its values exactly (it must read back equal, type for type)."""
    import yaml

    from ..yamlpos import parse_documents

    try:
        body = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=88)
    except yaml.YAMLError:  # a tuple, a set: values YAML has no tag for
        return None
    text = f"# Imported by dagsmith from {source}\n{body}"
    documents, problems = parse_documents(text, "imported.yaml")
    if problems or len(documents) != 1 or not _same(documents[0].data, data):
        return None
    return text


def _same(a: object, b: object) -> bool:
    """Equal, with the same types all the way down (1 is not True, nor 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


Fidelity = Literal["same AST", "same AST but docstring indentation", "different AST"]


def fidelity(old: str, template: str, imported: Imported) -> Fidelity:
    """How the module dagsmith regenerates from an import compares with the old file.

    black re-indents docstrings, so a template whose functions have indented
    docstrings regenerates with different docstring text and nothing else.
    """
    from ..format import format_source

    assert imported.dag_id is not None, "only a file that matched is regenerated"
    source = fill_tokens(template, imported.dag_id, imported.master_dict)
    body = format_source(source, Position(imported.source))
    if not isinstance(body, str):
        return "different AST"
    before, after = ast.parse(old), ast.parse(body)
    if ast.dump(before) == ast.dump(after):
        return "same AST"
    if ast.dump(_clean_docstrings(before)) == ast.dump(_clean_docstrings(after)):
        return "same AST but docstring indentation"
    return "different AST"


def _clean_docstrings(tree: ast.Module) -> ast.Module:
    """The tree with every docstring's indentation and trailing spaces normalized."""
    for node in ast.walk(tree):
        if (
            isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            )
            and node.body
        ):
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines = inspect.cleandoc(first.value.value).splitlines()
                first.value.value = "\n".join(line.rstrip() for line in lines)
    return tree


@dataclass(frozen=True)
class ImportPlan:
    """What an import creates (root-relative path: text), says, and leaves alone."""

    files: Mapping[str, str]
    lines: tuple[str, ...]
    skipped: tuple[Problem, ...]


def patterns(old: LegacyProject, shown: Callable[[str], str]) -> dict[str, Pattern]:
    """Every old template's pattern; InputError naming each one that cannot be."""
    found, problems = {}, list(old.problems)
    for name, text in sorted(old.templates.items()):
        made = pattern(name, text)
        if isinstance(made, str):
            problems.append(Problem(Position(shown(name)), made))
        else:
            found[name] = made
    if problems:
        raise InputError(problems)
    return found


def plan_import(
    old: LegacyProject,
    patterns: Mapping[str, Pattern],
    specs: str,
    templates: str,
    existing: Callable[[str], str | None],
) -> ImportPlan:
    """The specs and templates an old setup becomes. `specs` and `templates` are
    the folders, root-relative; `existing(path)` is a file's text, or None."""
    files: dict[str, str] = {}
    lines, skipped = [], []
    dags: dict[str, list[TokenValues]] = {name: [] for name in patterns}
    for file in old.files:
        imported = import_file(file.shown, file.namespace, file.text, patterns)
        spec = spec_text(imported) if imported.problem is None else None
        target = f"{specs}/{file.namespace}/{imported.dag_id}.yaml"
        problem = imported.problem or (
            "YAML cannot hold its values" if spec is None else None
        )
        if problem is None and existing(target) is not None:
            problem = f"{target} exists"
        if (
            problem is not None
            or spec is None
            or imported.template is None
            or imported.dag_id is None
        ):
            skipped.append(Problem(Position(file.shown), f"left alone: {problem}"))
            continue
        files[target] = spec
        dags[imported.template].append(
            TokenValues(file.shown, imported.dag_id, imported.master_dict)
        )
        match = fidelity(file.text, old.templates[imported.template], imported)
        lines.append(
            f"spec      {target}  (from {file.shown}, template {imported.template}; "
            f"regenerates with the {match})"
        )
    for name in patterns:
        target = f"{templates}/{name}.template"
        present = existing(target)
        laid = laid_out_template(old.templates[name], dags[name])
        if present is not None and present not in (old.templates[name], laid):
            skipped.append(Problem(Position(target), "exists and differs; not copied"))
        elif present is None:
            files[target] = laid or old.templates[name]
            how = "  (in black's layout: one black pass a DAG)" if laid else ""
            lines.append(f"template  {target}{how}")
    return ImportPlan(files, tuple(lines), tuple(skipped))
