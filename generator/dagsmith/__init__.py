"""dagsmith: declarative YAML specs to deterministic Apache Airflow DAG files.

`trigger` is imported on first use: a build never loads the run-time client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .airflow.runs import trigger

__all__ = ["__version__", "trigger"]


def __getattr__(name: str) -> object:
    """`dagsmith.trigger`, imported when first asked for."""
    if name == "trigger":
        from .airflow.runs import trigger

        return trigger
    raise AttributeError(f"module 'dagsmith' has no attribute {name!r}")
