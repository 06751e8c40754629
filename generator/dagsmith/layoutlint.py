"""What a template's layout costs black: the lines black rewrites in every render.

A render that black leaves as it is costs black one pass; one it changes costs
two, as black checks its own output again. The literals are already laid out
as black lays them out (`layout.py`), so what is left is the template's own
text. `dagsmith lint` renders a few specs of each template, formats them, and
reports each template line that black rewrote in every one of them, with the
line as black writes it. A legacy template can be rewritten in black's layout
(`dagsmith lint --fix`), when every spec on it then gives the same bytes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .dagcode import PACK
from .errors import Position, Problem
from .format import format_source
from .model import Spec, Template, TemplateSet
from .render import render
from .tokens import TokenValues, laid_out_template

# Renders per template: a line black rewrites in all of them is the template's.
SAMPLE = 8
CODE = "black"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, order=True)
class Finding:
    """One thing to change in a template, where it is written: an error (what
    Airflow 3 removed or moved) or a warning."""

    where: Position
    code: str
    message: str
    error: bool = False


def layout_findings(specs: Iterable[Spec], templates: TemplateSet) -> list[Finding]:
    """For each template: the lines black rewrites in every sampled render, and
    once, when every render changed, what that costs."""
    by_template: dict[str, list[Spec]] = {}
    for spec in specs:
        by_template.setdefault(spec.template, []).append(spec)
    found: list[Finding] = []
    for name, group in sorted(by_template.items()):
        template = templates.templates[name]
        pack = templates.pack_of(name)
        if pack is not None and pack.name == PACK:
            continue  # dagsmith's own: nothing a project could change
        rewrites = [_rewrites(spec, template, templates) for spec in group[:SAMPLE]]
        known = [r for r in rewrites if r is not None]
        if not known or not all(known):
            continue
        if template.kind == "legacy":
            fix = "dagsmith lint --fix rewrites it"
        else:
            fix = "write the lines below as black writes them"
        found.append(
            Finding(
                Position(template.path),
                CODE,
                "every render of this template costs black a second pass "
                f"({len(known)} of {len(known)} sampled renders changed); {fix} ({CODE})",
            )
        )
        common = set.intersection(*(set(r) for r in known))
        for line in sorted(common):
            shown = known[0][line]
            found.append(
                Finding(
                    Position(template.path, line),
                    CODE,
                    f"black rewrites this line in every DAG it renders, as: {shown} "
                    f"({CODE})",
                )
            )
    return found


def _rewrites(
    spec: Spec, template: Template, templates: TemplateSet
) -> dict[int, str] | None:
    """The template lines black changed in this spec's render, each with what
    black wrote instead; None when the spec does not render."""
    rendered = render(spec, templates)
    if isinstance(rendered, Problem):
        return None
    formatted = format_source(rendered, Position(spec.path))
    if isinstance(formatted, Problem):
        return None
    if formatted == rendered:
        return {}
    before, after = rendered.splitlines(), formatted.splitlines()
    changed: dict[int, str] = {}
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for line, instead in _paired(before[i1:i2], after[j1:j2]):
            number = template_line(template.source, line, None)
            if number is not None:
                changed.setdefault(number, " ⏎ ".join(instead) or "(nothing)")
    return changed


def _paired(before: list[str], after: list[str]) -> list[tuple[str, list[str]]]:
    """Each line black changed, with the lines it became: by their text once
    what black adds or changes (space, commas, quotes, parentheses) is set
    aside; where that does not line up, every line with the whole block."""
    pairs, start = [], 0
    for line in before:
        want, taken, end = _bare(line), "", start
        while end < len(after) and len(taken) < len(want):
            taken += _bare(after[end])
            end += 1
        while end < len(after) and not _bare(after[end]):
            end += 1  # a closing bracket black put on a line of its own
        if taken != want:
            whole = [a.strip() for a in after]
            return [(b, whole) for b in before]
        pairs.append((line, [a.strip() for a in after[start:end]]))
        start = end
    return pairs


def _bare(line: str) -> str:
    return re.sub(r"[\s,'\"()\\]", "", line)


def fixed_legacy_templates(
    specs: Sequence[Spec], templates: TemplateSet
) -> Mapping[str, str]:
    """Each legacy template (by path) rewritten in black's layout, where every
    spec on it gives the very same bytes from the rewrite."""
    fixed = {}
    for template in templates.templates.values():
        if template.kind != "legacy" or templates.pack_of(template.name):
            continue  # a pack's templates are its publisher's to change
        dags = [
            TokenValues(s.path, s.dag_id, s.master_dict)
            for s in specs
            if s.template == template.name
        ]
        laid = laid_out_template(template.source, dags) if dags else None
        if laid is not None:
            fixed[template.path] = laid
    return fixed


def template_line(source: str, line: str, segment: str | None) -> int | None:
    """The template line that wrote an output line: the same text, else, of the
    lines holding what ruff points at (`segment`; None: of every line), the
    one sharing the most names with it (black may have split or joined it)."""
    lines = source.splitlines()
    for number, text in enumerate(lines, 1):
        if text.strip() == line.strip():
            return number
    names = set(_NAME.findall(line)) - {segment}
    shared = {
        number: len(names & set(_NAME.findall(text)))
        for number, text in enumerate(lines, 1)
        if segment is None or (segment and segment in text)
    }
    # A line that shares nothing but the segment did not write this one (the
    # name may come from a filter's output, say).
    best = max(shared, key=lambda n: (shared[n], -n), default=None)
    return best if best is not None and shared[best] else None
