"""dagsmith's own templates: the pack `dagsmith`, named `dagsmith/NAME` in specs.

`tasks` takes a DAG declared as tasks, in dag-factory's vocabulary (its code
is `dagcode.py`). The files here are read as text, never imported.
"""
