"""The command line as a Click command: what the documentation's CLI reference is generated from
(``docs/reference/cli.md``, by mkdocs-click), so the reference cannot drift from the code."""

from __future__ import annotations

import typer

from ammgc.cli import app

command = typer.main.get_command(app)
