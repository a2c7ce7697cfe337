"""Command line: argument parsing only; every command calls library functions.

Each command, or group of commands, lives in its own module; all are registered on ``app`` here.
"""

from __future__ import annotations

import typer

from ammgc.cli import compare, cv, data, experiment, features, folds, predict, study, tune
from ammgc.cli.common import App

app = App(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
          help="AMMGC: predict miRNA-drug resistance associations (Niu et al. 2022).")


def _version(value: bool) -> None:
    if value:
        from ammgc import __version__

        typer.echo(f"ammgc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """AMMGC: predict miRNA-drug resistance associations (Niu et al. 2022)."""
    import signal

    from ammgc.cli.common import report_through_terminal

    # Python's own Ctrl-C handler at the C level too: native code (RDKit) in a process this one was forked
    # from may have left its own there
    signal.signal(signal.SIGINT, signal.default_int_handler)
    report_through_terminal()


#: the commands, then the groups, in the order --help lists them
COMMANDS = {"cv": cv.cv, "compare": compare.compare, "explain": predict.explain, "train": predict.train,
            "predict": predict.predict, "evaluate-ranking": experiment.evaluate_ranking, "tune": tune.tune,
            "study": study.study, "evaluate": folds.evaluate}
GROUPS = {"data": data.app, "features": features.app, "experiment": experiment.app, "folds": folds.app}
for name, command in COMMANDS.items():
    app.command(name)(command)
for name, group in GROUPS.items():
    app.add_typer(group, name=name)


def main() -> None:
    from ammgc.cli.common import run_app

    run_app(app)
