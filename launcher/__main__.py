"""`python -m launcher ...` is the `sensr` command."""

from launcher.cli import main

main(prog_name="sensr")
