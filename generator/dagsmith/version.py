"""dagsmith's version: the one place it is written.

A release is tagged `vX.Y.Z` from this number (see CHANGELOG.md), which is
the `rev:` a pre-commit configuration pins.
"""

__version__ = "0.1.0"
