"""``python -m tradelearn`` runs the command line."""

from tradelearn.cli import main

main()
