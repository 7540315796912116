"""Allow ``python -m ostiary``."""

from ostiary.cli import main

main()
