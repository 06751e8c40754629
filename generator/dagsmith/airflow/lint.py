"""`dagsmith lint`: what Airflow 3 removed or moved, found by ruff's Airflow rules,
and said against the template line that wrote it.

ruff (pinned, like black) checks the outputs as they would be generated:
AIR301 and AIR302 (removed and moved APIs) are errors, AIR311 and AIR312
(suggested updates) warnings. A finding is reported once per template line,
however many outputs that line wrote; where the line cannot be found in the
template, at the output's line, naming its spec.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..cache import Generated
from ..errors import Position, ToolMissing
from ..layoutlint import Finding, template_line
from ..model import TemplateSet

RULES = ("AIR301", "AIR302", "AIR311", "AIR312")
ERRORS = ("AIR301", "AIR302")


class RuffMissing(ToolMissing):
    """ruff cannot be run."""


def run_ruff(outputs: Mapping[str, bytes]) -> list[dict[str, object]]:
    """ruff's Airflow 3 findings over these files (by output path), as JSON rows
    whose `filename` is the output path."""
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        raise RuffMissing("dagsmith lint needs ruff: pip install dagsmith") from None
    with tempfile.TemporaryDirectory(prefix="dagsmith-lint-") as scratch:
        folder = Path(scratch)
        for relative, content in outputs.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(content)
        command = [
            str(find_ruff_bin()),
            "check",
            "--isolated",
            "--no-cache",
            "--preview",
            "--exit-zero",
            "--output-format=json",
            f"--select={','.join(RULES)}",
            *sorted(outputs),
        ]
        result = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuffMissing(f"ruff failed: {result.stderr.strip()[-500:]}")
        rows: list[dict[str, object]] = json.loads(result.stdout or "[]")
    for row in rows:
        row["filename"] = Path(str(row["filename"])).relative_to(folder).as_posix()
    return rows


def findings(
    rows: Iterable[Mapping[str, object]],
    files: Iterable[Generated],
    templates: TemplateSet,
    out: str,
) -> list[Finding]:
    """Each ruff row against its template's line; one per template line and rule."""
    by_output = {f.output.path: f for f in files}
    found = set()
    for row in rows:
        file = by_output[str(row["filename"])]
        template = templates.templates[file.target.template]
        location = row["location"]
        assert isinstance(location, dict)
        line = file.output.content.decode("utf-8").splitlines()[location["row"] - 1]
        where = template_line(template.source, line, _segment(row, line))
        message = _message(row)
        if where is None:
            at = Position(f"{out}/{file.output.path}", location["row"])
            message += (
                f" (rendered from {file.target.spec}; not found in {template.path})"
            )
        else:
            at = Position(template.path, where)
        code = str(row["code"])
        found.add(Finding(at, code, message, error=code in ERRORS))
    return sorted(found)


def _segment(row: Mapping[str, object], line: str) -> str:
    """The text ruff points at on the output line (a name, an argument)."""
    start, end = row["location"], row["end_location"]
    assert isinstance(start, dict)
    assert isinstance(end, dict)
    if start["row"] != end["row"]:
        return line.strip()
    return line[start["column"] - 1 : end["column"] - 1]


def _message(row: Mapping[str, object]) -> str:
    """ruff's message, with its fix when it has one, and the rule."""
    message = str(row["message"]).replace("`", "").rstrip("; .")
    fix = row.get("fix")
    if isinstance(fix, dict) and fix.get("message"):
        message += f"; {str(fix['message']).replace('`', '').rstrip('; .')}"
    return f"{message} ({row['code']})"
