"""`ammgc cv`: the paper's cross-validation protocol for any registered method."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ammgc.cli.common import (
    CutoffsOption,
    DataOption,
    DeviceOption,
    EpochsAttentionOption,
    EpochsGcnOption,
    ExecutorOption,
    JobsOption,
    MethodOption,
    MirbaseOption,
    PNegOption,
    RepeatsOption,
    SchedulerOption,
    SeedOption,
    SplitOption,
    build_method,
    load_data,
    method_config,
    resolve_jobs,
    splitter_from,
)
from ammgc.data.source import located
from ammgc.evaluation.cluster import execution
from ammgc.io import ensure_writable_dir


def register(app: typer.Typer) -> None:
    app.command("cv")(cv)


def cv(
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    method: MethodOption = "ammgc",
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds per repeat.")] = 5,
    repeats: RepeatsOption = None,
    seed: SeedOption = 0,
    split: SplitOption = "pair",
    cutoffs: CutoffsOption = None,
    p_neg: PNegOption = None,
    epochs_gcn: EpochsGcnOption = None,
    epochs_attention: EpochsAttentionOption = None,
    device: DeviceOption = "cpu",
    jobs: JobsOption = 0,
    executor: ExecutorOption = "local",
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable).")] = Path("runs/cv"),
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Any method option as KEY=VALUE (JSON value), e.g. -o hidden=[128,256].")] = None,
) -> None:
    """Cross-validate a method: writes OUT/metrics.json, OUT/report.md and OUT/curves.png."""
    from ammgc.experiments.cv import run_cv
    from ammgc.paper import TABLE_METRICS
    from ammgc.reporting.tables import USER_METRIC_LABELS, USER_METRICS, metrics_line, views_note

    config = method_config(option, device, p_neg=p_neg, epochs_gcn=epochs_gcn, epochs_attention=epochs_attention)
    cv = splitter_from(split, folds, repeats, seed, cutoffs)
    chosen = build_method(method, config)
    ensure_writable_dir(out)  # before any data is read or computed
    with execution(executor, scheduler), located(mirbase=mirbase):
        body = run_cv(chosen, load_data(data), cv, jobs=resolve_jobs(jobs), out=out, progress=True)
    mean, std, sem = body["mean"], body["std"], body["sem"]
    params = cv.params()
    plan = (f"cut-offs {', '.join(map(str, params['cutoffs']))}" if "cutoffs" in params
            else f"{params['repeats']} x {params['n_folds']}-fold")
    typer.echo(f"{method} ({params['split']} split, {plan}): {metrics_line(mean, std, TABLE_METRICS)}")
    typer.echo(f"ranking (mean ± standard error): {metrics_line(mean, sem, USER_METRICS, USER_METRIC_LABELS)}")
    typer.echo(views_note(body["views"]))
    typer.echo(f"wrote {out / 'metrics.json'}, {out / 'report.md'}, {out / 'curves.png'}")
