"""dagsmith: declarative YAML specs to deterministic Apache Airflow DAG files."""

__version__ = "0.1.0"
