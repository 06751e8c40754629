"""Templates to Python source: Jinja2 with values as literals, and legacy token templates.

In a `.py.j2` template `{{ expr }}` renders the value as a Python literal, the
way HTML autoescaping renders text safe: a string from a spec can never become
code. Code comes only from the template itself: its text, the output of its
macros (and `caller()` blocks), and `{{ name|identifier }}`, which accepts only
a valid Python identifier. Any operation on a macro's output (`~`, `+`, a
filter) gives a plain string again, which is written as a literal.
"""

from __future__ import annotations

import keyword
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import dagcode
from .errors import Position, Problem
from .layout import Holes, explodes, on_one_line
from .literals import LiteralError, describe_path, to_literal
from .model import JINJA_SYNTAX, Spec, TemplateSet
from .pycode import Call, Var
from .pystrings import IN_STRING, inside_strings
from .tokens import check_legacy_source, render_legacy


class Code(str):
    """Text that goes into the output as code; made only by checked filters."""


PARAM = Var("Param")  # the template imports it

# The collections of the render under way, laid out once their lines are known.
_HOLES: ContextVar[Holes | None] = ContextVar("holes", default=None)


def identifier(value: object) -> Code:
    """The value as a bare Python name; anything else is an error."""
    if (
        not isinstance(value, str)
        or not value.isidentifier()
        or keyword.iskeyword(value)
    ):
        raise jinja2.TemplateRuntimeError(
            f"identifier: {value!r} is not a valid Python identifier"
        )
    return Code(value)


def airflow_params(params: object) -> Code:
    """A spec's params as code for a DAG's `params=`: `{"name": Param(default, ...)}`.

    Every value in it is a literal; the template imports `Param`.
    """
    if not isinstance(params, dict):
        raise jinja2.TemplateRuntimeError("airflow_params: expects the spec's params")
    calls: dict[str, Call] = {}
    for name, param in params.items():
        keywords, others = [], {}
        for key, value in param.items():
            if key == "default":
                continue
            if key.isidentifier() and not keyword.iskeyword(key):
                keywords.append((key, value))
            else:  # JSON Schema keywords such as `not` or `$ref`
                others[key] = value
        calls[name] = Call(PARAM, (param["default"],), tuple(keywords), others or None)
    code = on_one_line(calls)  # raises here, where the template says where
    holes = _HOLES.get()
    return Code(code if holes is None or not calls else holes.hold(calls, code))


@dataclass(frozen=True)
class DeclaredDag:
    """What dagsmith/tasks lays out: imports, DAG arguments, statements, as Code."""

    imports: tuple[Code, ...]
    arguments: tuple[tuple[str, Code], ...]
    statements: tuple[Code, ...]


def declared_dag(master_dict: object) -> DeclaredDag:
    """A DAG declared as tasks (dag-factory's vocabulary), as code: see dagcode."""
    if not isinstance(master_dict, Mapping):
        raise jinja2.TemplateRuntimeError(
            "declared_dag: expects the spec's master_dict"
        )
    module, problems = dagcode.translate(master_dict)
    if module is None:  # validation refuses these first
        path, message = problems[0]
        raise jinja2.TemplateRuntimeError(
            f"{describe_path(('master_dict', *path))}: {message}"
        )
    return DeclaredDag(
        tuple(map(Code, module.imports)),
        tuple((name, Code(value)) for name, value in module.arguments),
        tuple(map(Code, module.statements)),
    )


def finalize(value: object) -> str:
    """How every `{{ expr }}` is written: as the value's Python literal."""
    if isinstance(value, Code):
        return value
    if isinstance(value, jinja2.Undefined):
        return str(value)  # StrictUndefined raises here, naming the missing name
    holes = _HOLES.get()
    if holes is None:
        return to_literal(value)
    if isinstance(value, str):  # a macro's output made plain: its values, flat
        return to_literal(holes.flat(value))
    literal = to_literal(value)  # raises here, where the template says where
    return holes.hold(value, literal) if explodes(value) else literal


def render_laid_out(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """The template rendered, each collection laid out as black would lay it out."""
    holes = Holes()
    token = _HOLES.set(holes)
    try:
        text = template.render(context)
    finally:
        _HOLES.reset(token)
    return holes.fill(text)


class _CodeGenerator(CodeGenerator):
    """Marks what macros, `caller()` blocks and recursive loops return as Code."""

    def return_buffer_contents(
        self, frame: Frame, force_unescaped: bool = False
    ) -> None:
        self.writeline(f"return environment.code(concat({frame.buffer}))")


class _Environment(ImmutableSandboxedEnvironment):
    # Templates are trusted code, but the sandbox keeps them from reaching Python
    # internals through spec values, and immutability keeps rendering pure.
    code_generator_class = _CodeGenerator
    code = Code
    template_set: TemplateSet | None = None

    def join_path(self, template: str, parent: str) -> str:
        """What an include names: inside a pack, a file of that pack."""
        if self.template_set is None:
            return template
        return self.template_set.join(template, parent)


@lru_cache(maxsize=8)
def environment(templates: TemplateSet) -> jinja2.Environment:
    """The Jinja2 environment over a template set; one per set and process."""

    def source(name: str) -> tuple[str, str, Any] | None:
        text = templates.jinja_sources.get(name)
        return None if text is None else (text, templates.shown(name), lambda: True)

    env = _Environment(
        loader=jinja2.FunctionLoader(source),
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        autoescape=False,
        **JINJA_SYNTAX,
    )
    env.template_set = templates
    env.filters["identifier"] = identifier
    env.filters["airflow_params"] = airflow_params
    env.filters["declared_dag"] = declared_dag
    return env


def _template_position(
    error: BaseException, templates: TemplateSet, fallback: str
) -> Position:
    """Where in a template an exception was raised, from Jinja's rewritten traceback."""
    lineno = getattr(error, "lineno", None)
    filename = getattr(error, "filename", None)
    if filename and lineno:
        return Position(filename, lineno)
    prefixes = (f"{templates.root}/", *(f"{name}/" for name in templates.packs))
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith(prefixes) and frame.lineno:
            return Position(frame.filename, frame.lineno)
    return Position(fallback)


_VALUEIN_STRING = (
    f"{IN_STRING}: dagsmith writes values as literals, "
    "quotes included, so a spec string could end the string early; build the string "
    'in the expression instead, e.g. {{ "prefix_" ~ name }}'
)


def check_jinja_source(name: str, templates: TemplateSet) -> list[Problem]:
    """Syntax errors of one Jinja2 source, and `{{ }}` placed inside a Python string."""
    env = environment(templates)
    shown = templates.shown(name)
    source = templates.jinja_sources[name]
    try:
        tokens = list(env.lex(source, name, shown))
        env.parse(source, name, shown)
    except jinja2.TemplateSyntaxError as error:
        return [
            Problem(
                Position(shown, error.lineno), f"template syntax error: {error.message}"
            )
        ]
    # The Python the template writes, with every {{ }} as a bare name `_`.
    skeleton, lines = "", dict[int, int]()
    for line, kind, value in tokens:
        if kind == "data":
            skeleton += value
        elif kind == "variable_begin":
            lines[len(skeleton)] = line
            skeleton += "_"
    return [
        Problem(Position(shown, lines[offset]), _VALUEIN_STRING)
        for offset in inside_strings(skeleton, sorted(lines))
    ]


def check_templates(templates: TemplateSet) -> list[Problem]:
    """Problems of every template in the set, before any spec is rendered."""
    problems = []
    for name in sorted(templates.jinja_sources):
        problems += check_jinja_source(name, templates)
    for template in templates.templates.values():
        if template.kind == "legacy":
            problems += check_legacy_source(template)
    return problems


def render(spec: Spec, templates: TemplateSet) -> str | Problem:
    """The spec's template rendered to Python source (not yet formatted), or a Problem."""
    template = templates.templates[spec.template]
    if template.kind == "legacy":
        return render_legacy(spec, template)
    context = {
        "dag_id": spec.dag_id,
        "namespace": spec.namespace,
        "template": spec.template,
        "spec": spec.path,
        "master_dict": spec.master_dict,
        "params": spec.params,
        "environment": spec.environment or None,
    }
    at = f"while rendering {spec.path} ({spec.label})"
    try:
        name = template.path.removeprefix(f"{templates.root}/")
        return render_laid_out(environment(templates).get_template(name), context)
    except LiteralError as error:
        where = _template_position(error, templates, template.path)
        return Problem(
            where,
            f"{describe_path(error.path) if error.path else 'value'}: {error.message} {at}",
        )
    except jinja2.TemplateError as error:
        where = _template_position(error, templates, template.path)
        return Problem(where, f"{error.message or type(error).__name__} {at}")
