"""Options shared by several commands, and the error boundary of the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ammgc.errors import AmmgcError

DataOption = Annotated[Path | None, typer.Option(
    "--data", help="Dataset: a benchmark directory or a bring-your-own dataset (default: $AMMGC_DATA, "
                   "then the user cache, downloaded on first use).")]
MirbaseOption = Annotated[Path | None, typer.Option(
    "--mirbase", help="Directory with miRBase FASTA files (default: $AMMGC_MIRBASE, then the user cache).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every stochastic step.")]
DeviceOption = Annotated[str, typer.Option("--device", help="Torch device: cpu, cuda, cuda:1, ...")]


INTERRUPTED = 130


def _interrupted() -> None:
    typer.secho("interrupted; finished folds are kept and a rerun resumes", err=True)
    sys.exit(INTERRUPTED)


def run_app(app: typer.Typer) -> None:
    """Run the app; the project's own errors become one clear line and exit code 2, Ctrl-C exit code 130."""
    try:
        # Without standalone mode typer returns (not raises) the code of typer.Exit, and turns Ctrl-C
        # into code 130; older typer raised Abort from the KeyboardInterrupt instead.
        code = app(standalone_mode=False)
    except AmmgcError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            _interrupted()
        sys.exit(1)
    except Exception as exc:
        # usage errors: click's ClickException, which newer typer vendors as a class of its own
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    if code == INTERRUPTED:
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


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


def method_config(options: list[str] | None, device: str, **shortcuts: object) -> dict[str, Any]:
    """A method's configuration from the command line: the ``-o KEY=VALUE`` options, then each shortcut
    option that was given (``--epochs-gcn`` and the like; None = not given), then ``--device`` unless cpu."""
    config: dict[str, Any] = parse_options(options)
    config.update({key: value for key, value in shortcuts.items() if value is not None})
    if device != "cpu":
        config["device"] = device
    return config
