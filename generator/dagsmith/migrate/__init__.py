"""`dagsmith import`: an old setup turned into specs, from dag_creator
(`dag_creator.py`) or from dag-factory (`dag_factory.py`). Uses the build
core; the core never imports it.
"""
