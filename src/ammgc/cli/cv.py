"""`ammgc cv`: the paper's cross-validation protocol for any registered method."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("cv")(cv)


def cv() -> None:
    """Cross-validate a method (placeholder until the model lands)."""
