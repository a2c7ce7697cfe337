"""Options shared by several commands, option groups, and the error boundary of the command line."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from ammgc.errors import AmmgcError, ModelFileError

DataOption = Annotated[Path | None, typer.Option(
    "--data", help="Dataset: a benchmark directory or a bring-your-own dataset (default: $AMMGC_DATA, "
                   "then the user cache, filled from the benchmark shipped in the package).")]
JobsOption = Annotated[int, typer.Option("--jobs", min=0, help="Folds run in parallel processes (0: one per core); "
                                                                "with --executor dask and no --scheduler, the "
                                                                "local cluster's workers.")]
#: AMMGC's defaults as --help states them (tests/test_output_safety.py checks them against AMMGC.Config, so
#: the help cannot drift; the CLI does not import the model just to print its help).
AMMGC_DEFAULTS = {"epochs_gcn": 50, "epochs_attention": 100, "p_neg": 1.0}
EpochsGcnOption = Annotated[int | None, typer.Option(
    "--epochs-gcn", help=f"AMMGC: epochs per GCN sub-network (default {AMMGC_DEFAULTS['epochs_gcn']}; "
                         "the method's or preset's own where it sets them).")]
EpochsAttentionOption = Annotated[int | None, typer.Option(
    "--epochs-attention", help=f"AMMGC: epochs of the attention network (default "
                               f"{AMMGC_DEFAULTS['epochs_attention']}; the preset's where it sets them).")]
PNegOption = Annotated[float | None, typer.Option(
    "--p-neg", help=f"AMMGC: negatives per positive per epoch (default {AMMGC_DEFAULTS['p_neg']:g}).")]
ExecutorOption = Annotated[str, typer.Option(
    "--executor", help="Where folds run: local (this machine's processes) or dask (a Dask cluster: --scheduler, "
                       "or a local one).")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", help="Address of a Dask scheduler (tcp://host:8786) for --executor dask.")]
MirbaseOption = Annotated[Path | None, typer.Option(
    "--mirbase", help="Directory with miRBase FASTA files (default: $AMMGC_MIRBASE, then the user cache).")]
SeedOption = Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed of every stochastic step.")]
DeviceOption = Annotated[str, typer.Option("--device", help="Torch device: cpu, cuda, cuda:1, ...")]
SplitOption = Annotated[str, typer.Option(
    "--split", help="pair (the paper's: random pairs), study (whole publications held out), time (train before a "
                    "cut-off, test after it), drug or mirna (cold start).")]
RepeatsOption = Annotated[int | None, typer.Option(
    "--repeats", min=1, help="Repeats (seeds seed..seed+R-1); default 10 (study: 5; time: 1, its cut-offs).")]
CutoffsOption = Annotated[str | None, typer.Option(
    "--cutoffs", help="Time split: cut-offs as fractions of the first-report order, e.g. 0.6,0.7,0.8 (the default).")]


@dataclasses.dataclass(frozen=True)
class FoldExecution:
    """Where a command's folds run (--jobs, --executor, --scheduler): an option group (``option_groups``)."""

    jobs: JobsOption = 0
    executor: ExecutorOption = "local"
    scheduler: SchedulerOption = None

    @property
    def workers(self) -> int:
        """--jobs as every command reads it: 0 means one process per usable core."""
        from ammgc.runtime import default_jobs

        return self.jobs or default_jobs()


def option_groups(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with each parameter whose type is an option group (a dataclass of options, such as
    ``FoldExecution``) spread into the group's options, in its place: typer sees the options, and the command
    gets the group built from them. Commands that share a group declare its options once; the group parameter
    has no default, so such a command's parameters are keyword-only. ``App`` applies this to every command."""
    hints = get_type_hints(command, include_extras=True)
    groups: dict[str, Any] = {}
    params: list[inspect.Parameter] = []
    for param in inspect.signature(command).parameters.values():
        kind = hints.get(param.name, param.annotation)
        if not dataclasses.is_dataclass(kind):
            params.append(param.replace(annotation=kind))
            continue
        groups[param.name] = kind
        fields = get_type_hints(kind, include_extras=True)
        params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                     annotation=fields[f.name]) for f in dataclasses.fields(kind)]
    if not groups:
        return command

    @functools.wraps(command)
    def run(**options: Any) -> None:
        for name, group in groups.items():
            options[name] = group(**{f.name: options.pop(f.name) for f in dataclasses.fields(group)})
        command(**options)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return run


class App(typer.Typer):
    """A typer app whose commands may take option groups (``option_groups``)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., None]], Callable[..., None]]:
        register = super().command(*args, **kwargs)
        return lambda command: register(option_groups(command))


#: what a Ctrl-C leaves, said as the command exits; commands that run folds say that a rerun resumes
_on_interrupt = {"note": ""}


@contextmanager
def running(*, out: Path | None = None, mirbase: Path | None = None,
            folds: FoldExecution | None = None) -> Iterator[None]:
    """What a command that computes runs inside: its output folder checked before any data is read or computed,
    the miRBase folder it was given and, for a command that runs folds, where they run (``folds``; its finished
    folds are kept and a rerun resumes)."""
    from ammgc.data.source import located
    from ammgc.evaluation.cluster import execution
    from ammgc.io import ensure_writable_dir

    if folds is not None:
        _on_interrupt["note"] = "interrupted; finished folds are kept and a rerun resumes"
    where = folds or FoldExecution()
    if out is not None:
        ensure_writable_dir(out)
    with execution(where.executor, where.scheduler), located(mirbase=mirbase):
        yield


def parse_cutoffs(split: str, cutoffs: str | None) -> tuple[float, ...] | None:
    """--cutoffs as fractions (None: not given); only the time split has them."""
    if cutoffs is None:
        return None
    if split != "time":
        raise typer.BadParameter("only the time split has cut-offs", param_hint="--cutoffs")
    try:
        return tuple(float(c) for c in cutoffs.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected fractions like 0.6,0.7,0.8, got {cutoffs!r}",
                                 param_hint="--cutoffs") from None


def splitter_from(split: str, folds: int, repeats: int | None, seed: int, cutoffs: str | None) -> Any:
    """The protocol the options name (--split, --folds, --repeats, --seed, --cutoffs), as a splitter object."""
    from ammgc.evaluation.splits import DEFAULT_CUTOFFS, SPLITS, splitter
    from ammgc.params import ParameterError

    split = split.strip().lower()
    if split not in SPLITS:
        raise typer.BadParameter(f"must be one of {', '.join(SPLITS)}, not {split!r}", param_hint="--split")
    values = parse_cutoffs(split, cutoffs)
    if split == "time" and repeats not in (None, 1):
        raise typer.BadParameter("the time split has one fold per cut-off and no repeats; use --cutoffs",
                                 param_hint="--repeats")
    try:
        return splitter(split, n_folds=folds, repeats=repeats, seed=seed, cutoffs=values or DEFAULT_CUTOFFS)
    except ParameterError as exc:
        hint = "--cutoffs" if "cutoff" in str(exc) else "--folds" if "n_folds" in str(exc) else "--repeats"
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def user_modules_importable() -> None:
    """Put the current directory on the import path, as `python -m` does: a user's module:Class beside where
    they run ammgc imports."""
    import os

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def build_method(name: str, config: dict[str, Any]) -> Any:
    """--method NAME (a registered method, a preset or module:Class, imported from the current directory or
    PYTHONPATH) with its options, its parameters checked before any work."""
    from ammgc import methods

    if ":" in name:
        user_modules_importable()
    method = methods.get(name.strip(), **config)
    if isinstance(method, methods.Method):
        method.check_params()
    return method


def load_data(data: Path | None) -> Any:
    """The dataset --data names (default: the benchmark)."""
    from ammgc.data import load_dataset

    return load_dataset(data)


MethodOption = Annotated[str, typer.Option(
    "--method", help="A method (ammgc, popularity, cf, lp, gf, sdne, gcmdr), a preset (ammgc-paper, ammgc-pairs, "
                     "cf-mirna, popularity-studies) or module:Class, a class of your own with fit(dataset, train, "
                     "seed=) and predict_scores(), imported from the current directory or PYTHONPATH.")]


INTERRUPTED = 130


def _interrupted() -> None:
    typer.secho(_on_interrupt["note"], err=True)
    sys.exit(INTERRUPTED)


#: library parameter -> the option that sets it: an error naming the parameter names the option too
FLAG_HINTS = {"n_folds": "--folds", "inner_folds": "--inner-folds", "cutoffs": "--cutoffs",
              "drug_features": "--drug-features", "mirna_views": "-o mirna_views", "drug_views": "-o drug_views"}


def with_flag_hints(message: str) -> str:
    """``message`` with the option beside the first mention of each parameter the command line sets."""
    import re

    for param, flag in FLAG_HINTS.items():
        message = re.sub(rf"\b{param}\b(?![=(])", f"{param} ({flag})", message, count=1)
    return message


def report_through_terminal() -> None:
    """The library's notes (``logging``, INFO and up) and warnings as lines on stderr: ``note: ...``,
    ``warning: ...``."""
    import logging
    import warnings

    from tqdm.auto import tqdm

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            prefix = "warning" if record.levelno >= logging.WARNING else "note"
            tqdm.write(f"{prefix}: {record.getMessage()}", file=sys.stderr)  # above any progress bar

    logger = logging.getLogger("ammgc")
    logger.handlers[:] = [_Lines()]
    logger.setLevel(logging.INFO)

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        typer.echo(f"warning: {message}", err=True)

    warnings.showwarning = show  # type: ignore[assignment]


def run_app(app: typer.Typer) -> None:
    """Run the app; the project's own errors become one clear line and exit code 2, Ctrl-C exit code 130."""
    from ammgc.io import remove_empty_outputs

    _on_interrupt["note"] = "interrupted; nothing half-written was left in place"
    try:
        _run(app)
    except SystemExit as exc:
        if exc.code not in (0, None):
            remove_empty_outputs()
        raise
    except BaseException:
        remove_empty_outputs()
        raise


def _run(app: typer.Typer) -> None:
    try:
        # Without standalone mode typer returns (not raises) the code of typer.Exit, and turns Ctrl-C
        # into code 130 (or, in some typer versions, raises Abort from the KeyboardInterrupt: handled below).
        code = app(standalone_mode=False)
    except AmmgcError as exc:
        # a model file's fields are not options, whatever their names
        message = str(exc) if isinstance(exc, ModelFileError) else with_flag_hints(str(exc))
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except OSError as exc:
        # a full disk, a file-size limit, a permission: the system's reason in one line, not a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        typer.secho(f"error: {exc.strerror or exc}{where}; nothing half-written was left in place",
                    err=True, fg=typer.colors.RED)
        sys.exit(2)
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
