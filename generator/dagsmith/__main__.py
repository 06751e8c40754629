"""`python -m dagsmith` is the `dagsmith` command."""

from .cli import main

main()
