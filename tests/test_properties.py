"""Properties over generated values: exact literals, strict YAML, no injection, determinism."""

from __future__ import annotations

import ast
import datetime
import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagsmith.config import load_settings
from dagsmith.literals import LiteralError, to_literal
from dagsmith.pipeline import build
from dagsmith.yamlpos import parse_documents
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

# Python reads back ints of at most this many digits (sys.get_int_max_str_digits()).
MAX_DIGITS = 4300
LARGEST_INT = 10**MAX_DIGITS - 1

HOSTILE = [
    "",
    "'",
    '"',
    '"""',
    "'''",
    "\\",
    '\\"',
    "\\'",
    "a\\",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\x0c",
    "\x00",
    "\x1b[31m",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ud800",
    "\U0001f600",
    "#",
    "{{ x }}",
    "{% raw %}",
    "{% endraw %}",
    "{# x #}",
    "#DAG_ID",
    "#MASTER_DICT",
    '"); import os; os.system("x',
    "'; import os; os.system('x'); '",
    '"""\nimport os\n"""',
    "\\\nimport os",
    "x" * 10_000,
]


def same(a: Any, b: Any) -> bool:
    """Equal and of exactly the same types, recursively: 1, True and 1.0 differ, as do 0.0, -0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        # Key order is part of the value: literals keep the order YAML gives.
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    return bool(a == b)


# Strategies ---------------------------------------------------------------------------

FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            0.0,
            -0.0,
            5e-324,  # the smallest subnormal
            -2.2250738585072014e-308,
            1.7976931348623157e308,
            -1.7976931348623157e308,
            1e16,  # repr without a '.'
            1e22,
            1e-7,
            0.1,
            2.0**53 + 2,
        ]
    ),
)


def integers(smallest: int, largest: int, *, anywhere: bool) -> st.SearchStrategy[int]:
    """Small ints and the bounds; with `anywhere`, any int between the bounds.

    Where each example is slow, ints of thousands of digits come only from the
    bounds: shrinking a random one takes minutes.
    """
    options = [
        st.integers(-(2**70), 2**70),
        st.sampled_from([smallest, largest, smallest + 1, largest - 1]),
    ]
    if anywhere:
        options.append(st.integers(smallest, largest))
    return st.one_of(options)


INTS = integers(-LARGEST_INT, LARGEST_INT, anywhere=True)
YAML_INTS = integers(-LARGEST_INT, LARGEST_INT, anywhere=False)
# Every code point, lone surrogates included, and the strings most likely to break out.
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.sampled_from(HOSTILE),
)
# What a YAML file can hold: every Unicode scalar value, so no lone surrogates
# (libyaml refuses their escapes, and no UTF-8 file can carry one raw).
YAML_HOSTILE = [h for h in HOSTILE if not any(0xD800 <= ord(c) <= 0xDFFF for c in h)]
YAML_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(YAML_HOSTILE),
)


# Keys that are different values but look alike once written: the YAML loader must
# not take them for duplicates.
LOOKALIKES = [0, 1, 0.5, -0.0, None, False, True]
LOOKALIKE_KEYS = st.sampled_from(
    [*LOOKALIKES, *map(str, LOOKALIKES), "null", "~", "", "false", "true", "no", "yes"]
)


def data(
    ints: st.SearchStrategy[int],
    tuples: bool = False,
    text: st.SearchStrategy[str] = TEXT,
    leaves: int = 12,
) -> st.SearchStrategy[Any]:
    """Nested values of the types YAML loads to (and, if asked, tuples and bytes)."""
    scalars = st.one_of(st.none(), st.booleans(), ints, FLOATS, text)
    if tuples:  # values from template expressions, which YAML cannot make
        scalars = st.one_of(scalars, st.binary(max_size=8))
    keys = st.one_of(st.none(), st.booleans(), ints, FLOATS, text, LOOKALIKE_KEYS)

    def collections(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        options = [
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=4),
        ]
        if tuples:
            options.append(st.lists(inner, max_size=3).map(tuple))
        return st.one_of(*options)

    return st.recursive(scalars, collections, max_leaves=leaves)


VALUES = data(INTS, tuples=True)
YAML_VALUES = data(YAML_INTS, text=YAML_TEXT)


# 0. The comparison the other properties rely on ------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, True),
        (1, 1.0),
        (0, False),
        (0.0, -0.0),
        (None, False),
        ("1", 1),
        ([1], (1,)),
        ([1, [2]], [1, [2.0]]),
        ({1: "a"}, {True: "a"}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"a": [0.0]}, {"a": [-0.0]}),
    ],
)
def test_same_tells_types_signs_and_order_apart(a: Any, b: Any) -> None:
    assert same(a, a)
    assert same(b, b)
    assert not same(a, b)
    assert not same(b, a)


# 1. Literals ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(VALUES)
@example(HOSTILE)
@example({None: -0.0, True: 5e-324, 2: LARGEST_INT, -0.0: -LARGEST_INT, "k": ()})
@example([(1,), ((),), 1e16, -1e-7])
def test_to_literal_reads_back_as_the_same_value(value: Any) -> None:
    text = to_literal(value)
    assert same(ast.literal_eval(text), value), text


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, st.binary(max_size=30), FLOATS))
@example("\\'\"")
@example(b"'\"")
def test_black_leaves_every_scalar_literal_as_written(value: Any) -> None:
    # So a template in black's style renders to source black's first pass
    # keeps, and black skips its second pass: half the formatting time.
    import black
    from dagsmith.format import mode

    source = f"x = [\n    {to_literal(value)},\n]\n"  # not a docstring, never joined
    assert black.format_str(source, mode=mode()) == source


# Where a value lands in a template written in black's layout: at the top, in a
# function, as a call's argument, as a dict's item, deep in blocks, as a list item.
PLACES = [
    "X = {v}\n",
    "def f():\n    return {v}\n",
    "x = call(\n    arg={v},\n)\n",
    'X = {{\n    "key": {v},\n}}\n',
    "if a:\n    if b:\n        a_rather_long_name_for_a_value = {v}\n",
    "x = [\n    {v},\n]\n",
]


@settings(max_examples=400, deadline=None)
@given(data(INTS, tuples=True, leaves=60), st.sampled_from(PLACES))
@example(["x" * 80], PLACES[0])
@example({"k": ["a" * 30, "b" * 30, {"c": "d" * 40}]}, PLACES[3])
@example(("a" * 90,), PLACES[5])
@example(["\u4e2d" * 40], PLACES[0])
def test_black_leaves_a_collection_as_laid_out_at_any_length(
    value: Any, place: str
) -> None:
    # A collection too long for its line is exploded where it lands as black
    # would explode it, so black's first pass keeps it: one pass, not two.
    import black
    from dagsmith.format import mode
    from dagsmith.layout import Holes, explodes

    assume(explodes(value))  # rendering lays out collections; a scalar is one token
    holes = Holes()
    source = holes.fill(place.format(v=holes.hold(value)))
    assert black.format_str(source, mode=mode()) == source
    # And it is what black makes of the value on one line: the same bytes.
    flat = place.format(v=to_literal(value))
    assert black.format_str(flat, mode=mode()) == source


PARAMS = st.dictionaries(
    TEXT,
    st.fixed_dictionaries(
        {"default": data(INTS, leaves=12)},
        optional={
            "type": st.sampled_from(["string", "integer", "array"]),
            "description": TEXT,
            "minimum": INTS,
            "not": st.fixed_dictionaries({"const": TEXT}),
        },
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(PARAMS, st.sampled_from(PLACES))
@example(
    {"dataset_id": {"default": 7, "type": "integer", "description": "x" * 70}},
    PLACES[2],
)
@example({"p": {"default": ["a" * 40, "b" * 40], "description": "d" * 30}}, PLACES[0])
def test_black_leaves_a_dags_params_as_laid_out(params: Any, place: str) -> None:
    # {"name": Param(...)}: calls, which black splits unlike collections.
    import black
    from dagsmith.format import mode
    from dagsmith.model import Template, TemplateSet
    from dagsmith.render import airflow_params, environment, render_laid_out

    source = place.format(v="{{ params|airflow_params }}")
    template = Template("t", "jinja", "templates/t.py.j2", source)
    templates = TemplateSet({"t": template}, {"t.py.j2": source}, "templates")
    laid = render_laid_out(
        environment(templates).from_string(source), {"params": params}
    )
    assert black.format_str(laid, mode=mode()) == laid
    flat = place.format(v=airflow_params(params))
    assert black.format_str(flat, mode=mode()) == laid


def nest(leaf: Any, path: list[int | str]) -> Any:
    """A structure with `leaf` at `path`: list indexes padded with None, keys after others."""
    for step in reversed(path):
        if isinstance(step, int):
            leaf = [None] * step + [leaf, "after"]
        else:
            leaf = {f"before {step}": 1, step: leaf}
    return leaf


NO_LITERAL = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.integers(10**MAX_DIGITS, 10 ** (MAX_DIGITS + 20)).map(lambda n: n * (-1) ** n),
    st.sampled_from(
        [datetime.date(2026, 1, 31), datetime.datetime(2026, 1, 31), {1, 2}, object()]
    ),
)


@settings(max_examples=100, deadline=None)
@given(
    leaf=NO_LITERAL, path=st.lists(st.integers(0, 3) | st.text(max_size=5), max_size=6)
)
def test_to_literal_names_where_a_value_has_no_literal(
    leaf: Any, path: list[int | str]
) -> None:
    with pytest.raises(LiteralError) as raised:
        to_literal(nest(leaf, path))
    assert raised.value.path == tuple(path)


# 2. YAML through the real loader --------------------------------------------------------


def value_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from value_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from value_paths(child, (*path, index))


def reads_back(text: str, value: Any) -> bool:
    """Whether plain PyYAML reads its own dump back as exactly the value."""
    try:
        return same(yaml.safe_load(text), value)
    except yaml.YAMLError:
        return False


@settings(max_examples=200, deadline=None)
@given(
    value=YAML_VALUES,
    flow=st.sampled_from([None, False, True]),
    allow_unicode=st.booleans(),
    width=st.sampled_from([80, 20, 10_000]),
)
@example(value=YAML_HOSTILE, flow=None, allow_unicode=True, width=80)
@example(
    value={
        "no": "no",
        "12:30": "12:30",
        "on": ["y", "n", "off", "0x1f", "1_0", "=", "<<"],
    },
    flow=False,
    allow_unicode=False,
    width=80,
)
@example(
    value={
        2: 0,
        "2": 1,
        -0.0: 2,
        "-0.0": 3,
        None: 4,
        "None": 5,
        "null": 6,
        True: 7,
        "True": 8,
    },
    flow=None,
    allow_unicode=False,
    width=80,
)
def test_yaml_loads_back_what_safe_dump_writes(
    value: Any, flow: bool | None, allow_unicode: bool, width: int
) -> None:
    document = {"value": value}
    text = yaml.safe_dump(
        document,
        sort_keys=False,
        default_flow_style=flow,
        allow_unicode=allow_unicode,
        width=width,
    )
    assume(reads_back(text, document))  # skip what YAML itself cannot represent
    documents, problems = parse_documents(text, "x.yaml")
    assert problems == []
    [loaded] = documents
    assert same(loaded.data, document)
    assert same(ast.literal_eval(to_literal(loaded.data)), document)
    assert set(loaded.positions) == set(value_paths(document))


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=5),
    st.text("0123456789", max_size=5),
)
def test_yaml_refuses_integers_python_cannot_read_back(
    sign: str, start: str, end: str
) -> None:
    # As text: Python will not even print an int of more than MAX_DIGITS digits.
    number = f"{sign}1{start}{'0' * MAX_DIGITS}{end}"
    documents, problems = parse_documents(f"value: {number}\n", "x.yaml")
    assert documents == []
    assert [p.message for p in problems] == [
        "integer too long: Python reads back at most 4,300 digits"
    ]


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["", "-", "+"]), st.text("0123456789", max_size=5))
@example("-", "99999")
def test_yaml_accepts_integers_of_the_most_digits_python_reads_back(
    sign: str, end: str
) -> None:
    number = f"{sign}1{'0' * (MAX_DIGITS - 1 - len(end))}{end}"  # MAX_DIGITS digits
    documents, problems = parse_documents(f"value: {number}\n", "x.yaml")
    assert problems == []
    assert same(documents[0].data, {"value": int(number)})
    assert ast.literal_eval(to_literal(int(number))) == int(number)


# 3. End to end through the pipeline -----------------------------------------------------

TEMPLATE = "VALUE = {{ master_dict.value }}\nNAME = {{ master_dict.name }}\n"
LEGACY = "MASTER_DICT = #MASTER_DICT\nDAG_ID = #DAG_ID\n"


def spec_text(dag_id: str, master_dict: Any, template: str = "t") -> str:
    spec = {"dag_id": dag_id, "template": template, "namespace": "ns"}
    text = yaml.safe_dump(
        {**spec, "master_dict": master_dict}, sort_keys=False, allow_unicode=True
    )
    assume(reads_back(text, {**spec, "master_dict": master_dict}))
    return text


@contextmanager
def project(files: dict[str, str]) -> Iterator[Path]:
    """A project in a new temporary folder (function-scoped fixtures outlive examples)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for relative, text in {"pyproject.toml": "[tool.dagsmith]\n", **files}.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        yield root


def built(root: Path) -> dict[str, bytes]:
    """Every output of `build`, by path."""
    return {o.path: o.content for o in build(load_settings(cwd=root)).outputs}


def assignments(module: ast.Module) -> dict[str, ast.expr]:
    """The right side of every top-level `NAME = ...`."""
    return {
        target.id: node.value
        for node in module.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


class _Blank(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant(type(node.value).__name__)


def shape(module: ast.Module) -> str:
    """The module's AST with every constant replaced by the name of its type."""
    return ast.dump(_Blank().visit(module))


def test_shape_ignores_constants_but_not_code() -> None:
    assert shape(ast.parse("A = 'x'\nB = [1, {None: 0.5}]")) == shape(
        ast.parse("A = 'y\\n'\nB = [2, {None: 5e-324}]")
    )
    for code in (
        "A = x",
        "A = 1",
        "A = 'x'; import os",
        "A = ('x')()",
        "A = 'x' + 'y'",
    ):
        assert shape(ast.parse(code)) != shape(ast.parse("A = 'x'")), code


def with_hostile_names(test: Callable[..., None]) -> Callable[..., None]:
    for name in YAML_HOSTILE:
        test = example(value=[name, {name: name}], name=name)(test)
    return test


@settings(max_examples=50, deadline=None)
@given(value=YAML_VALUES, name=YAML_TEXT)
@with_hostile_names
def test_pipeline_writes_values_as_exact_literals_and_strings_never_as_code(
    value: Any, name: str
) -> None:
    files = {
        "templates/t.py.j2": TEMPLATE,
        "templates/legacy.template": LEGACY,
        "specs/given.yaml": spec_text("given", {"value": value, "name": name}),
        "specs/plain.yaml": spec_text("plain", {"value": value, "name": "x"}),
        "specs/legacy_given.yaml": spec_text("legacy_given", {"name": name}, "legacy"),
        "specs/legacy_plain.yaml": spec_text("legacy_plain", {"name": "x"}, "legacy"),
    }
    with project(files) as root:
        outputs = {p: ast.parse(c.decode("utf-8")) for p, c in built(root).items()}

    given_ = assignments(outputs["ns/given.py"])
    assert same(ast.literal_eval(given_["VALUE"]), value)
    assert same(ast.literal_eval(given_["NAME"]), name)
    legacy = assignments(outputs["ns/legacy_given.py"])
    assert same(ast.literal_eval(legacy["MASTER_DICT"]), {"name": name})
    assert same(ast.literal_eval(legacy["DAG_ID"]), "legacy_given")
    # Whatever the string, the code around it is the same: it cannot become code.
    assert shape(outputs["ns/given.py"]) == shape(outputs["ns/plain.py"])
    assert shape(outputs["ns/legacy_given.py"]) == shape(outputs["ns/legacy_plain.py"])


@pytest.mark.xfail(
    strict=True,
    reason="black's docstring normalization (format.py) strips the spaces around a "
    "string rendered as the first statement of a function or module",
)
@settings(max_examples=20, deadline=None)
@given(YAML_TEXT)
@example("  padded  ")
def test_a_value_in_docstring_position_keeps_its_exact_value(doc: str) -> None:
    files = {
        "templates/t.py.j2": "def f():\n    {{ master_dict.doc }}\n",
        "specs/d.yaml": spec_text("d", {"doc": doc}),
    }
    with project(files) as root:
        module = ast.parse(built(root)["ns/d.py"].decode("utf-8"))
    function = module.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert same(ast.get_docstring(function, clean=False), doc)


# 4. Determinism -------------------------------------------------------------------------

DEFAULTS = "template: t\nnamespace: ns\n"


def body(content: bytes) -> bytes:
    """An output without its two header lines: they name the spec file (the body
    digest covers the first line too, so a hand edit of the header shows)."""
    named, digest, rest = content.split(b"\n", 2)
    assert named.startswith(b"# Code generated by dagsmith from specs/")
    assert digest.startswith(b"# dagsmith-digest: inputs=")
    return rest


@settings(max_examples=20, deadline=None)
@given(
    entries=st.lists(st.tuples(YAML_VALUES, YAML_TEXT), min_size=1, max_size=3),
    order=st.randoms(use_true_random=False),
)
def test_outputs_depend_only_on_what_the_specs_say(
    entries: list[tuple[Any, str]], order: Any
) -> None:
    specs = {
        f"specs/spec_{i}.yaml": spec_text(f"dag_{i}", {"value": v, "name": n})
        for i, (v, n) in enumerate(entries)
    }
    shuffled = list(specs.items())
    order.shuffle(shuffled)
    # The same specs, as documents of one file in another order, with the template
    # and namespace from _defaults.yaml.
    documents = [
        {"dag_id": f"dag_{i}", "master_dict": {"value": v, "name": n}}
        for i, (v, n) in enumerate(entries)
    ]
    order.shuffle(documents)
    one_file = yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True)
    assume(same(list(yaml.safe_load_all(one_file)), documents))

    with project({"templates/t.py.j2": TEMPLATE, **specs}) as root:
        first = built(root)
        again = built(root)
    # Written in another order, in another folder.
    with project({"templates/t.py.j2": TEMPLATE, **dict(shuffled)}) as root:
        elsewhere = built(root)
    files = {"specs/all/_defaults.yaml": DEFAULTS, "specs/all/x.yaml": one_file}
    with project({"templates/t.py.j2": TEMPLATE, **files}) as root:
        renamed = built(root)

    assert set(first) == {f"ns/dag_{i}.py" for i in range(len(entries))}
    assert again == first
    assert elsewhere == first
    assert set(renamed) == set(first)
    for path, content in first.items():
        assert body(renamed[path]) == body(content), path


# Overlays: what an environment's overlay makes of a spec's master_dict.
KEYS = st.sampled_from(["a", "b", "c", "d"])
LEAVES = st.one_of(
    st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=3)
)
NESTED = st.recursive(
    LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=3), max_leaves=8
)
MAPPINGS = st.dictionaries(KEYS, NESTED, max_size=4)


def merged(base: Any, over: Any) -> Any:
    """The rule, stated plainly: mappings merge key by key, anything else is replaced."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    return {
        **base,
        **{k: merged(base[k], v) if k in base else v for k, v in over.items()},
    }


@given(MAPPINGS, MAPPINGS)
@settings(max_examples=200, deadline=None)
def test_an_overlay_merges_as_defaults_do(base: Any, over: Any) -> None:
    from dagsmith.merge import for_environment
    from dagsmith.model import Document

    data = {
        "dag_id": "d",
        "master_dict": base,
        "environments": {"prod": {"master_dict": over}, "dev": {"enabled": False}},
    }
    document = Document("specs/d.yaml", 0, data, {}, {})
    prod = for_environment(document, "prod")
    assert prod is not None
    assert prod.data["master_dict"] == merged(base, over)
    assert "environments" not in prod.data
    assert for_environment(document, "dev") is None
    # An environment without an overlay gets the spec as written.
    staging = for_environment(document, "staging")
    assert staging is not None
    assert staging.data["master_dict"] == base
