"""``python -m sancodec`` runs the command line."""

from sancodec.cli import main

main()
