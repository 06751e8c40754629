"""dagsmith: declarative YAML specs to deterministic Apache Airflow DAG files."""

__version__ = "0.1.0"

from .runs import trigger

__all__ = ["__version__", "trigger"]
