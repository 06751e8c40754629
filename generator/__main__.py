"""`python -m generator` is the `dagsmith` command."""

from .cli import main

main()
