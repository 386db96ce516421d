"""`python -m agree` is the `agree` command."""

from agree.explorer.cli import main

main()
