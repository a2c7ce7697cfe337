"""Options shared by several commands, and the error boundary of the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ammgc.errors import AmmgcError

DataOption = Annotated[Path | None, typer.Option(
    "--data", help="Dataset: a benchmark directory or a bring-your-own dataset (default: $AMMGC_DATA, "
                   "then the user cache, downloaded on first use).")]
MirbaseOption = Annotated[Path | None, typer.Option(
    "--mirbase", help="Directory with miRBase FASTA files (default: $AMMGC_MIRBASE, then the user cache).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every stochastic step.")]
DeviceOption = Annotated[str, typer.Option("--device", help="Torch device: cpu, cuda, cuda:1, ...")]


def run_app(app: typer.Typer) -> None:
    """Run the app; the project's own errors become one clear line and exit code 2."""
    try:
        app(standalone_mode=False)
    except AmmgcError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted; finished folds are kept and a rerun resumes", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


def parse_options(items: list[str] | None) -> dict[str, object]:
    """``KEY=VALUE`` pairs; values are JSON when they parse as JSON, else strings."""
    import json

    config: dict[str, object] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--option")
        try:
            config[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            config[key.strip()] = raw
    return config
