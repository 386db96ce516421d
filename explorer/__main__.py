"""`python -m explorer` is the `agree` command."""

from explorer.cli import main

main()
