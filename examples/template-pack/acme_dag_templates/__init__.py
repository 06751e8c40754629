"""ACME's DAG templates for dagsmith: the pack `acme` (templates acme/NAME).

The files beside this one are the pack: dagsmith reads them as text.
"""
