"""The ``sancodec`` command line (Typer). Thin: every command calls the library."""

from sancodec.cli import batch_commands, check_command, codec_commands, model_commands  # noqa: F401 (registers them)
from sancodec.cli.app import app, main

__all__ = ["app", "main"]
