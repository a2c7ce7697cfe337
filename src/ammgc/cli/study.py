"""`ammgc study`: every table and figure of the paper and the honest protocols, in one resumable run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ammgc.cli.common import (
    DataOption,
    FoldExecution,
    MirbaseOption,
    SeedOption,
    load_data,
    parse_options,
    running,
)


def study(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    parts: Annotated[str, typer.Option(
        "--parts", help="all, or some of table1,table2,table3,figure3,protocols.")] = "all",
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Repeats of the random-pair protocol.")] = 10,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds per repeat.")] = 5,
    seed: SeedOption = 0,
    execution: FoldExecution,
    plan_only: Annotated[bool, typer.Option("--plan", help="Print the plan and stop.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable).")] = Path("runs/study"),
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="AMMGC options for every AMMGC run of the study, as KEY=VALUE (JSON value).")] = None,
) -> None:
    """The paper's Tables 1-3 and Figure 3 (with its paper-faithful configuration) and Table 1 under the study
    and time splits, into OUT/<part>/, with OUT/index.md; a configuration several parts share is trained
    once, and an interrupted study resumes fold by fold. Prints the plan (trainings, estimated time) first."""
    from ammgc.experiments.study import plan_study, plan_text, run_study, study_parts

    chosen = study_parts(parts)
    overrides = parse_options(option)
    workers = execution.workers
    plan = plan_study(parts=chosen, repeats=repeats, n_folds=folds, overrides=overrides)
    typer.echo(plan_text(plan, jobs=workers), err=True)
    if plan_only:
        return
    with running(out=out, mirbase=mirbase, folds=execution):
        run_study(load_data(data), parts=chosen, repeats=repeats, n_folds=folds, seed=seed, jobs=workers,
                  overrides=overrides, out=out, progress=True)
    typer.echo(f"wrote {out / 'index.md'}")
