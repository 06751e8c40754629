"""The load stage alone: strict YAML with positions, `_defaults.yaml`, templates, settings."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from dagsmith import __version__
from dagsmith.config import Settings, load_settings
from dagsmith.errors import InputError, Position, Problem
from dagsmith.load import load_specs, load_templates
from dagsmith.model import Document
from dagsmith.yamlpos import parse_documents

# A generous bound for inputs that must be refused early, not a benchmark.
QUICK = 2.0


def at(line: int, column: int, file: str = "f.yaml") -> Position:
    return Position(file, line, column)


def parse_one(text: str) -> Document:
    """The only document of a text that must load without problems."""
    documents, problems = parse_documents(text, "f.yaml")
    assert problems == []
    assert len(documents) == 1
    return documents[0]


def refused(text: str) -> list[Problem]:
    """The problems of a one-document text that must not load."""
    documents, problems = parse_documents(text, "f.yaml")
    assert documents == []
    assert problems
    return problems


def timed_refusal(text: str) -> list[Problem]:
    started = time.perf_counter()
    problems = refused(text)
    assert time.perf_counter() - started < QUICK
    return problems


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project: a pyproject.toml with an empty `[tool.dagsmith]` table."""
    (tmp_path / "pyproject.toml").write_text("[tool.dagsmith]\n", encoding="utf-8")
    return tmp_path


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def settings_of(root: Path) -> Settings:
    return load_settings(cwd=root)


def by_path(documents: tuple[Document, ...]) -> dict[str, Document]:
    return {d.path: d for d in documents}


# parse_documents: positions

NESTED = """\
a: 1
b:
  c: [x, {d: e}]
  f:
    - g
    - h: i
"""


def test_scalar_values_have_one_based_line_and_column() -> None:
    document = parse_one(NESTED)
    assert document.path == "f.yaml"
    assert document.index == 0
    assert document.data == {
        "a": 1,
        "b": {"c": ["x", {"d": "e"}], "f": ["g", {"h": "i"}]},
    }
    assert document.positions[()] == at(1, 1)
    assert document.positions[("a",)] == at(1, 4)
    assert document.positions[("b", "f", 0)] == at(5, 7)
    assert document.positions[("b", "f", 1, "h")] == at(6, 10)


def test_keys_have_their_own_positions() -> None:
    document = parse_one(NESTED)
    assert document.key_positions[("a",)] == at(1, 1)
    assert document.key_positions[("b",)] == at(2, 1)
    assert document.key_positions[("b", "c")] == at(3, 3)
    assert document.key_positions[("b", "c", 1, "d")] == at(3, 11)
    assert document.key_positions[("b", "f", 1, "h")] == at(6, 7)
    # List items have no key.
    assert ("b", "f", 0) not in document.key_positions


def test_values_in_flow_lists_and_mappings() -> None:
    document = parse_one(NESTED)
    # A flow collection is where its bracket is, not where its key is.
    assert document.positions[("b", "c")] == at(3, 6)
    assert document.positions[("b", "c", 0)] == at(3, 7)
    assert document.positions[("b", "c", 1)] == at(3, 10)
    assert document.positions[("b", "c", 1, "d")] == at(3, 14)


def test_block_collection_value_is_at_its_key() -> None:
    document = parse_one(NESTED)
    # Block mapping `b` and block list `f` start on the line after their key.
    assert document.positions[("b",)] == document.key_positions[("b",)] == at(2, 1)
    assert (
        document.positions[("b", "f")] == document.key_positions[("b", "f")] == at(4, 3)
    )


def test_top_level_list() -> None:
    document = parse_one("- a\n- 1\n- {k: v}\n")
    assert document.data == ["a", 1, {"k": "v"}]
    assert document.positions[(1,)] == at(2, 3)
    assert document.positions[(2, "k")] == at(3, 7)
    assert document.key_positions == {(2, "k"): at(3, 4)}


def test_several_documents_are_numbered_with_their_lines() -> None:
    documents, problems = parse_documents("a: 1\n---\nb: 2\n---\nc: x\n", "multi.yaml")
    assert problems == []
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}, {"c": "x"}]
    assert [d.index for d in documents] == [0, 1, 2]
    assert [d.start for d in documents] == [
        Position("multi.yaml", line, 1) for line in (1, 3, 5)
    ]
    assert documents[2].positions[("c",)] == Position("multi.yaml", 5, 4)
    assert {d.path for d in documents} == {"multi.yaml"}


def test_empty_documents_are_dropped() -> None:
    documents, problems = parse_documents(
        "---\n---\na: 1\n---\n---\n# note\n---\nb: 2\n", "f"
    )
    assert problems == []
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}]
    assert [d.start.line for d in documents] == [3, 8]
    assert documents[0].index < documents[1].index
    assert parse_documents("---\n", "f") == ([], [])
    assert parse_documents("# only a comment\n", "f") == ([], [])
    assert parse_documents("", "f") == ([], [])


def test_a_bad_document_does_not_drop_the_good_ones() -> None:
    documents, problems = parse_documents("a: 1\n---\nb: yes\n---\nc: 3\n", "f.yaml")
    assert [d.data for d in documents] == [{"a": 1}, {"c": 3}]
    assert [p.where for p in problems] == [at(3, 4)]


ANCHORS = """\
base: &b
  x: 1
  y: 2
ref: *b
word: &w hello
again: *w
"""


def test_anchors_and_aliases_load_with_positions() -> None:
    document = parse_one(ANCHORS)
    assert document.data == {
        "base": {"x": 1, "y": 2},
        "ref": {"x": 1, "y": 2},
        "word": "hello",
        "again": "hello",
    }
    # An alias of a block mapping is at its key; its values where they were written.
    assert document.positions[("ref",)] == at(4, 1)
    assert document.positions[("ref", "y")] == at(3, 6)
    assert document.positions[("again",)] == at(5, 7)
    assert document.key_positions[("again",)] == at(6, 1)


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 3\n",
        "a:\n  <<: {x: 1, x: 2}\n",
        "a:\n  <<: [{x: on}]\n",
    ],
)
def test_merge_keys_are_refused_where_they_are_written(text: str) -> None:
    problems = refused(text)
    assert any("merge keys (<<) are refused" in p.message for p in problems)
    assert all(p.where.line in (2, 3) for p in problems)


# parse_documents: what is refused


def test_duplicate_key_is_refused_at_the_second() -> None:
    (problem,) = refused("a: 1\nb: 2\na: 3\n")
    assert problem.where == at(3, 1)
    assert "duplicate key 'a' (first at line 1)" in problem.message


def test_duplicate_nested_key_is_refused() -> None:
    (problem,) = refused("top:\n  x: 1\n  y:\n    z: 1\n    w: 2\n    z: 3\n")
    assert problem.where == at(6, 5)
    assert "duplicate key 'z' (first at line 4)" in problem.message


def test_duplicate_key_in_a_flow_mapping_in_a_list_is_refused() -> None:
    (problem,) = refused("items:\n  - ok\n  - {k: 1, j: 2, k: 3}\n")
    assert problem.where == at(3, 18)
    assert "duplicate key 'k' (first at line 3)" in problem.message


def test_same_key_in_different_mappings_is_fine() -> None:
    document = parse_one("a: {k: 1}\nb: {k: 2}\n")
    assert document.data == {"a": {"k": 1}, "b": {"k": 2}}


@pytest.mark.parametrize(
    ("word", "meaning"),
    [
        ("yes", True),
        ("No", False),
        ("on", True),
        ("OFF", False),
    ],
)
def test_yaml_1_1_booleans_are_refused(word: str, meaning: bool) -> None:
    (problem,) = refused(f"flag: {word}\n")
    assert problem.where == at(1, 7)
    assert f"{word!r} is read by YAML 1.1 as the boolean {meaning}" in problem.message
    assert f"quote it ('{word}')" in problem.message


def test_yaml_1_1_boolean_as_a_key_is_refused() -> None:
    (problem,) = refused("on: 1\n")
    assert problem.where == at(1, 1)
    assert "'on' is read by YAML 1.1 as the boolean True" in problem.message


def test_true_false_and_quoted_words_are_fine() -> None:
    document = parse_one("a: true\nb: False\nc: \"yes\"\nd: 'No'\ne: |\n  on\n")
    assert document.data == {"a": True, "b": False, "c": "yes", "d": "No", "e": "on\n"}


def test_base_60_numbers_are_refused() -> None:
    problems = refused("t: 1:30\nu: 1:30.5\n")
    assert [p.where for p in problems] == [at(1, 4), at(2, 4)]
    assert all("as a base-60 number" in p.message for p in problems)
    assert "quote it ('1:30')" in problems[0].message


def test_quoted_base_60_is_a_string() -> None:
    assert parse_one("t: \"1:30\"\nu: '1:30'\n").data == {"t": "1:30", "u": "1:30"}


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object:os.system {}",
        "!!python/object/apply:os.getcwd []",
        "!!python/object/new:builtins.dict {}",
        "!!python/name:os.system",
    ],
)
def test_python_tags_are_refused(value: str) -> None:
    (problem,) = refused(f"a: 1\nb: {value}\n")
    assert problem.where.line == 2
    assert problem.message.startswith("invalid YAML:")
    assert "no tags that build Python objects" in problem.message


BILLION_LAUGHS = "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" if i else "l0: &l0 [lol]\n"
    for i in range(10)
)


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        "deep: " + "[" * 150 + "]" * 150 + "\n",
        "deep: " + "{a: " * 150 + "1" + "}" * 150 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(150)) + "  " * 150 + "v\n",
    ],
    ids=["alias bomb", "deep lists", "deep flow mappings", "deep block mappings"],
)
def test_huge_documents_are_refused_quickly(text: str) -> None:
    (problem,) = timed_refusal(text)
    assert problem.where.file == "f.yaml"
    assert "document too large" in problem.message


@pytest.mark.parametrize("text", ["&a [*a]\n", "a: &a {b: *a}\n", "- &a\n  - *a\n"])
def test_self_referencing_alias_is_refused_without_hanging(text: str) -> None:
    (problem,) = timed_refusal(text)
    assert "document too large" in problem.message


def test_y_and_n_are_strings_in_pyyaml_and_load_as_such() -> None:
    assert parse_one("a: y\nb: n\n").data == {"a": "y", "b": "n"}


@pytest.mark.parametrize("text", ["010", "-07", "0_7"])
def test_yaml_1_1_octal_numbers_are_refused(text: str) -> None:
    (problem,) = refused(f"n: {text}\n")
    assert problem.where == at(1, 4)
    assert "octal" in problem.message


def test_nesting_within_the_limit_loads() -> None:
    document = parse_one("deep: " + "[" * 40 + "]" * 40 + "\n")
    assert document.positions[("deep",) + (0,) * 39] == at(1, 46)


# Document.position_of


def test_position_of_falls_back_to_the_nearest_parent() -> None:
    document = parse_one(NESTED)
    assert document.position_of(("b", "c", 1, "missing", 0)) == at(3, 10)
    assert document.position_of(("b", "nope")) == at(2, 1)
    assert document.position_of(("nope",)) == document.start == at(1, 1)
    assert document.position_of(()) == at(1, 1)


def test_position_of_a_key() -> None:
    document = parse_one(NESTED)
    assert document.position_of(("b", "c"), key=True) == at(3, 3)
    assert document.position_of(("b", "c")) == at(3, 6)
    # A list item has no key: its value's position is the nearest.
    assert document.position_of(("b", "c", 1), key=True) == at(3, 10)
    assert document.position_of(("b", "c", 1, "zz"), key=True) == at(3, 10)


def test_position_of_in_a_document_without_positions() -> None:
    document = Document("x.yaml", 0, {}, {}, {})
    assert document.start == Position("x.yaml", 1, 1)
    assert document.position_of(("a", 0)) == Position("x.yaml", 1, 1)


# load_specs and _defaults.yaml


def test_nearest_defaults_win_for_template_and_namespace(root: Path) -> None:
    write(root, "specs/_defaults.yaml", "template: top_t\nnamespace: top\n")
    write(root, "specs/team/_defaults.yaml", "namespace: team\n")
    write(root, "specs/plain.yaml", "dag_id: p\n")
    write(root, "specs/team/a.yaml", "dag_id: a\n")
    write(root, "specs/team/b.yaml", "dag_id: b\nnamespace: own\n")
    write(root, "specs/team/sub/c.yaml", "dag_id: c\n")
    write(root, "specs/other/d.yaml", "dag_id: d\n")
    loaded = load_specs(settings_of(root))
    assert loaded.problems == ()
    got = {
        d.data["dag_id"]: (d.data["template"], d.data["namespace"])
        for d in loaded.documents
    }
    assert got == {
        "p": ("top_t", "top"),
        "a": ("top_t", "team"),
        "b": ("top_t", "own"),
        "c": ("top_t", "team"),
        "d": ("top_t", "top"),
    }
    assert {d.path for d in loaded.defaults} == {
        "specs/_defaults.yaml",
        "specs/team/_defaults.yaml",
    }


TOP_DEFAULTS = """\
template: top_t
namespace: top
master_dict:
  a: 1
  nested:
    x: 1
    y: 2
  items: [1, 2]
extra: {p: 1, q: 2}
"""
TEAM_DEFAULTS = """\
namespace: team
master_dict:
  b: 2
  nested:
    y: 20
"""
SPEC = """\
# A spec under two defaults files.
dag_id: d
master_dict:
  c: 3
  nested:
    z: 30
  items: [9]
extra: {q: 3}
"""


@pytest.fixture
def layered(root: Path) -> Document:
    """The one spec of a project with defaults in specs/ and specs/team/."""
    write(root, "specs/_defaults.yaml", TOP_DEFAULTS)
    write(root, "specs/team/_defaults.yaml", TEAM_DEFAULTS)
    write(root, "specs/team/spec.yaml", SPEC)
    loaded = load_specs(settings_of(root))
    assert loaded.problems == ()
    (document,) = loaded.documents
    return document


def test_master_dict_is_deep_merged_across_two_defaults(layered: Document) -> None:
    assert layered.path == "specs/team/spec.yaml"
    assert layered.data["master_dict"] == {
        "a": 1,
        "b": 2,
        "c": 3,
        "nested": {"x": 1, "y": 20, "z": 30},
        "items": [9],
    }
    assert layered.data["namespace"] == "team"
    assert layered.data["template"] == "top_t"


def test_other_mappings_are_replaced_not_merged(layered: Document) -> None:
    assert layered.data["extra"] == {"q": 3}
    assert layered.positions[("extra", "q")] == Position("specs/team/spec.yaml", 8, 12)
    assert ("extra", "p") not in layered.positions
    assert ("extra", "p") not in layered.key_positions


def test_defaulted_values_keep_their_file_and_line(layered: Document) -> None:
    top, team = "specs/_defaults.yaml", "specs/team/_defaults.yaml"
    assert layered.positions[("template",)] == Position(top, 1, 11)
    assert layered.key_positions[("template",)] == Position(top, 1, 1)
    assert layered.positions[("namespace",)] == Position(team, 1, 12)
    assert layered.positions[("master_dict", "a")] == Position(top, 4, 6)
    assert layered.positions[("master_dict", "b")] == Position(team, 3, 6)
    assert layered.positions[("master_dict", "nested", "x")] == Position(top, 6, 8)
    assert layered.positions[("master_dict", "nested", "y")] == Position(team, 5, 8)
    assert layered.key_positions[("master_dict", "nested", "y")] == Position(team, 5, 5)


def test_values_from_the_spec_point_at_the_spec(layered: Document) -> None:
    spec = "specs/team/spec.yaml"
    assert layered.positions[("dag_id",)] == Position(spec, 2, 9)
    assert layered.positions[("master_dict", "c")] == Position(spec, 4, 6)
    assert layered.positions[("master_dict", "nested", "z")] == Position(spec, 6, 8)
    # A replaced list points at the spec, and the defaults' items are gone.
    assert layered.positions[("master_dict", "items")] == Position(spec, 7, 10)
    assert layered.positions[("master_dict", "items", 0)] == Position(spec, 7, 11)
    assert ("master_dict", "items", 1) not in layered.positions


def test_a_spec_with_defaults_starts_in_the_spec(layered: Document) -> None:
    # The document begins at its first key, below the comment.
    assert layered.start == Position("specs/team/spec.yaml", 2, 1)


def test_a_merged_mapping_written_in_the_spec_points_at_the_spec(
    layered: Document,
) -> None:
    spec = "specs/team/spec.yaml"
    assert layered.position_of(("master_dict",)) == Position(spec, 3, 1)
    assert layered.position_of(("master_dict",), key=True) == Position(spec, 3, 1)
    assert layered.position_of(("master_dict", "nested")) == Position(spec, 5, 3)


def test_a_spec_that_is_not_a_mapping_is_left_as_is(root: Path) -> None:
    write(root, "specs/_defaults.yaml", "namespace: top\nmaster_dict: {a: 1}\n")
    write(root, "specs/list.yaml", "- 1\n- 2\n")
    write(root, "specs/word.yaml", "just words\n")
    loaded = load_specs(settings_of(root))
    assert loaded.problems == ()
    documents = by_path(loaded.documents)
    assert documents["specs/list.yaml"].data == [1, 2]
    assert documents["specs/list.yaml"].positions == {
        (): Position("specs/list.yaml", 1, 1),
        (0,): Position("specs/list.yaml", 1, 3),
        (1,): Position("specs/list.yaml", 2, 3),
    }
    assert documents["specs/word.yaml"].data == "just words"


def test_files_are_visited_in_sorted_order(root: Path) -> None:
    names = [
        "specs/z/x.yaml",
        "specs/c.yaml",
        "specs/m/x.yaml",
        "specs/a.yaml",
        "specs/b.yaml",
    ]
    for seconds, name in enumerate(names):
        path = write(root, name, f"dag_id: {name.replace('/', '_')}\n---\nsecond: 2\n")
        os.utime(path, (1_000_000 + seconds, 1_000_000 + seconds))
    loaded = load_specs(settings_of(root))
    assert loaded.problems == ()
    assert [(d.path, d.index) for d in loaded.documents] == [
        (name, index) for name in sorted(names) for index in (0, 1)
    ]


def test_yml_is_a_spec_and_other_files_are_ignored(root: Path) -> None:
    write(root, "specs/a.yml", "dag_id: a\n")
    write(root, "specs/b.yaml", "dag_id: b\n")
    for name in ("notes.txt", "README.md", "b.yaml.bak", "c.json", "d.YAML~"):
        write(root, f"specs/{name}", "not: [valid\n")
    loaded = load_specs(settings_of(root))
    assert loaded.problems == ()
    assert [d.path for d in loaded.documents] == ["specs/a.yml", "specs/b.yaml"]
    assert loaded.documents[0].positions[("dag_id",)] == Position("specs/a.yml", 1, 9)


def test_a_defaults_file_with_two_documents_is_a_problem(root: Path) -> None:
    write(root, "specs/_defaults.yaml", "namespace: a\n---\nnamespace: b\n")
    write(root, "specs/s.yaml", "dag_id: s\n")
    loaded = load_specs(settings_of(root))
    (problem,) = loaded.problems
    assert problem.where == Position("specs/_defaults.yaml", 3, 1)
    assert "a defaults file holds one document" in problem.message


def test_a_missing_specs_folder_is_a_problem(root: Path) -> None:
    loaded = load_specs(settings_of(root))
    assert loaded.documents == ()
    assert [(str(p.where), p.message) for p in loaded.problems] == [
        (
            "specs/",
            f"not found in {root} (the project root, marked by {root}/pyproject.toml "
            "with [tool.dagsmith]); create specs/ there, set [tool.dagsmith] specs, "
            "or pass --specs",
        )
    ]


# load_templates


@pytest.fixture
def templates(root: Path) -> Path:
    write(root, "templates/alpha.py.j2", "A\n")
    write(root, "templates/beta.template", "B = #MASTER_DICT\n")
    write(root, "templates/alpha.schema.yaml", "# contract\ntype: object\n")
    write(root, "templates/macros.j2", "M\n")
    write(root, "templates/parts/head.j2", "H\n")
    write(root, "templates/parts/deep/x.py.j2", "X\n")
    write(root, "templates/parts/sub.template", "S\n")
    write(root, "templates/parts/sub.schema.yaml", "type: object\n")
    write(root, "templates/README.md", "docs\n")
    return root


def test_top_level_templates_by_name(templates: Path) -> None:
    loaded, problems = load_templates(settings_of(templates))
    assert problems == ()
    assert loaded.root == "templates"
    # dagsmith's own templates come with every project's.
    assert sorted(loaded.templates) == ["alpha", "beta", "dagsmith/tasks"]
    alpha, beta = loaded.templates["alpha"], loaded.templates["beta"]
    assert (alpha.name, alpha.kind, alpha.path, alpha.source) == (
        "alpha",
        "jinja",
        "templates/alpha.py.j2",
        "A\n",
    )
    assert (beta.name, beta.kind, beta.path, beta.source) == (
        "beta",
        "legacy",
        "templates/beta.template",
        "B = #MASTER_DICT\n",
    )


def test_partials_by_relative_path(templates: Path) -> None:
    loaded, _ = load_templates(settings_of(templates))
    own = {
        k: v for k, v in loaded.jinja_sources.items() if not k.startswith("dagsmith/")
    }
    assert own == {
        "alpha.py.j2": "A\n",
        "macros.j2": "M\n",
        "parts/head.j2": "H\n",
        "parts/deep/x.py.j2": "X\n",
    }
    assert set(loaded.jinja_sources) - set(own) == {"dagsmith/tasks.py.j2"}


def test_a_contract_is_attached_to_its_template(templates: Path) -> None:
    loaded, _ = load_templates(settings_of(templates))
    contract = loaded.templates["alpha"].contract
    assert contract is not None
    assert contract.data == {"type": "object"}
    assert contract.path == "templates/alpha.schema.yaml"
    assert contract.positions[("type",)] == Position(
        "templates/alpha.schema.yaml", 2, 7
    )
    assert loaded.templates["beta"].contract is None


def test_a_template_defined_twice_is_a_problem(templates: Path) -> None:
    write(templates, "templates/beta.py.j2", "B2\n")
    loaded, problems = load_templates(settings_of(templates))
    (problem,) = problems
    assert problem.where == Position("templates/beta.template", 1, 1)
    assert problem.message == (
        "template 'beta' is defined twice: templates/beta.py.j2 and templates/beta.template"
    )
    assert loaded.templates["beta"].path == "templates/beta.py.j2"


def test_a_contract_without_template_is_a_problem(templates: Path) -> None:
    write(templates, "templates/gone.schema.yaml", "\n\ntype: object\n")
    loaded, problems = load_templates(settings_of(templates))
    (problem,) = problems
    assert problem.where == Position("templates/gone.schema.yaml", 3, 1)
    assert "contract for template 'gone', which does not exist" in problem.message
    assert "gone" not in loaded.templates


def test_a_missing_templates_folder_is_said_only_for_a_spec_that_needs_it(
    root: Path,
) -> None:
    loaded, problems = load_templates(settings_of(root))
    # A project of DAGs declared as tasks needs no templates folder.
    assert problems == ()
    assert list(loaded.templates) == ["dagsmith/tasks"]
    assert loaded.missing is not None
    assert (str(loaded.missing.where), loaded.missing.message) == (
        "templates/",
        f"not found in {root} (the project root, marked by {root}/pyproject.toml "
        "with [tool.dagsmith]); create templates/ there, set [tool.dagsmith] "
        "templates, or pass --templates",
    )


def test_a_templates_folder_named_like_an_installed_pack_is_refused(
    templates: Path,
) -> None:
    (templates / "templates/dagsmith").mkdir()
    (templates / "templates/dagsmith/tasks.py.j2").write_text("X\n")
    loaded, problems = load_templates(settings_of(templates))
    assert [(str(p.where), p.message) for p in problems] == [
        (
            "templates/dagsmith/tasks.py.j2:1:1",
            f"templates/dagsmith/ has the name of the installed pack 'dagsmith' "
            f"(dagsmith {__version__}), whose templates are named dagsmith/NAME; "
            "rename the folder",
        )
    ]
    assert loaded.templates["dagsmith/tasks"].path == "dagsmith/tasks.py.j2"


# config.load_settings


def test_defaults_are_relative_to_the_root(root: Path) -> None:
    sub = root / "a" / "b"
    sub.mkdir(parents=True)
    settings = load_settings(cwd=sub)
    assert settings == Settings(
        root=root,
        specs=root / "specs",
        templates=root / "templates",
        out=root / "generated_dags",
    )
    assert settings.state == root / ".dagsmith"


def test_options_are_relative_to_the_working_folder(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.dagsmith]\nspecs = "conf/specs"\ntemplates = "conf/tpl"\n',
        encoding="utf-8",
    )
    sub = root / "a" / "b"
    sub.mkdir(parents=True)
    settings = load_settings(cwd=sub, templates="tpl", out="../out")
    assert settings.root == root
    assert settings.specs == root / "conf" / "specs"
    assert settings.templates == sub / "tpl"
    assert settings.out == root / "a" / "out"


def test_git_is_a_boundary_the_root_is_never_looked_for_above(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.dagsmith]\nspecs = "s"\n', encoding="utf-8"
    )
    inner = root / "inner"
    (inner / ".git").mkdir(parents=True)
    (inner / "x").mkdir()
    settings = load_settings(cwd=inner / "x")
    assert settings.root == inner
    assert settings.marker == ".git"
    # The outer pyproject.toml is not the root's, so its table does not apply.
    assert settings.specs == inner / "specs"


def test_a_dagsmith_pyproject_wins_over_a_nearer_specs_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dagsmith]\nspecs = "dags/specs"\n', encoding="utf-8"
    )
    (tmp_path / "dags/specs").mkdir(parents=True)
    for cwd, specs in (
        (tmp_path / "dags", None),
        (Path("/"), f"{tmp_path}/dags/specs"),
    ):
        settings = load_settings(cwd=cwd, specs=specs)
        assert (settings.root, settings.marker) == (tmp_path, "pyproject.toml")


def test_without_a_dagsmith_pyproject_the_root_holds_the_specs(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\n", encoding="utf-8")
    project = tmp_path / "airflow"
    (project / "specs/team").mkdir(parents=True)
    for cwd in (project, project / "specs/team"):
        settings = load_settings(cwd=cwd)
        assert (settings.root, settings.marker) == (project, "specs/")
    given = load_settings(cwd=tmp_path, specs="airflow/specs")
    assert (given.root, given.specs) == (project, project / "specs")
    named = load_settings(cwd=Path("/"), specs=f"{project}/dag_specs")
    assert (named.root, named.marker) == (project, "dag_specs/")


def test_nothing_marking_a_root_leaves_the_working_folder(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path)
    assert (settings.root, settings.marker) == (tmp_path, "")
    (problem,) = load_specs(settings).problems
    assert str(problem) == (
        f"specs/: not found in {tmp_path} (the project root, the working folder: "
        "nothing at or above it holds specs/, .git or a pyproject.toml with "
        "[tool.dagsmith]); run dagsmith in the folder that holds specs/, add a "
        "pyproject.toml with [tool.dagsmith], or pass --specs"
    )


def test_a_broken_pyproject_that_names_dagsmith_is_an_input_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dagsmith\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_settings(cwd=tmp_path)
    (problem,) = raised.value.problems
    assert problem.where.file == str(tmp_path / "pyproject.toml")
    assert problem.message.startswith("cannot read: ")
    # One that never names dagsmith belongs to other tools: it is not parsed.
    (tmp_path / "pyproject.toml").write_text("[tool.black\n", encoding="utf-8")
    assert load_settings(cwd=tmp_path).marker == ""


@pytest.mark.parametrize(
    ("table", "key", "line"),
    [
        ('spec = "s"\n', "spec", 2),
        ("out = 3\n", "out", 2),
        ('specs = "s"\nextra = "x"\n', "extra", 3),
    ],
)
def test_bad_settings_are_an_input_error(
    root: Path, table: str, key: str, line: int
) -> None:
    (root / "pyproject.toml").write_text("[tool.dagsmith]\n" + table, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_settings(cwd=root)
    (problem,) = raised.value.problems
    assert problem.where == Position("pyproject.toml", line)
    assert problem.message.startswith(f"[tool.dagsmith] {key}: expected one of ")
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('"prod"', "got 'prod'"),
        ("[]", "got []"),
        ('["dev", 3]', "3 is not one"),
        ('["dev", "Prod"]', "'Prod' is not one"),
        ('["dev", "../x"]', "'../x' is not one"),
        ('["dev", "dev"]', "'dev' is listed twice"),
    ],
)
def test_environments_must_be_a_list_of_names(
    root: Path, value: str, said: str
) -> None:
    (root / "pyproject.toml").write_text(
        f"[tool.other]\nenvironments = 1\n[tool.dagsmith]\nenvironments = {value}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        load_settings(cwd=root)
    (problem,) = raised.value.problems
    # The line in [tool.dagsmith], not another table's key of the same name.
    assert problem.where == Position("pyproject.toml", 4)
    assert problem.message.startswith("[tool.dagsmith] environments: expected a list")
    assert said in problem.message


def test_environments_are_read_in_order(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.dagsmith]\nenvironments = ["prod", "dev"]\n', encoding="utf-8"
    )
    assert load_settings(cwd=root).environments == ("prod", "dev")


def test_display_is_root_relative_posix(root: Path) -> None:
    settings = load_settings(cwd=root)
    assert settings.display(root / "specs" / "team" / "a.yaml") == "specs/team/a.yaml"
    assert settings.display(str(root / "templates")) == "templates"
    assert settings.display(root) == "."
    # Outside the project (a dags folder to deploy to) a path stays absolute.
    outside = root.parent / "elsewhere.yaml"
    assert settings.display(outside) == outside.as_posix()
    assert (
        settings.display(root / "specs" / ".." / ".." / "x")
        == (root.parent / "x").as_posix()
    )


def test_the_root_comes_from_the_specs_folder_when_it_is_given(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    settings = load_settings(cwd=elsewhere, specs=str(root / "specs"))
    assert settings.root == root
    assert settings.templates == root / "templates"  # the root's, not the cwd's
    assert settings.out == root / "generated_dags"
    assert settings.display(root / "specs" / "a.yaml") == "specs/a.yaml"
