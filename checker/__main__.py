"""``python -m checker`` runs the ``seqprove`` command."""

from checker.cli import main

main()
