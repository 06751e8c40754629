"""What talks to Airflow: its REST client and runs (`trigger`), `deploy`, the
DagBag driver and its probe (`verify`, `graph`), and `lint` (ruff's Airflow
rules). These modules use the build core; the core never imports them, so a
`generate` loads none of this (import-linter checks it in `make lint`).
"""
