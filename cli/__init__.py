"""The ``sancodec`` command line (Typer). Thin: every command calls the library."""

from sancodec.cli.app import app, main

__all__ = ["app", "main"]
