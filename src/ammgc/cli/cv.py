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
    FoldExecution,
    MethodOption,
    MirbaseOption,
    PNegOption,
    RepeatsOption,
    SeedOption,
    SplitOption,
    build_method,
    load_data,
    method_config,
    running,
    splitter_from,
)


def cv(
    *,
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
    execution: FoldExecution,
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable).")] = Path("runs/cv"),
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Any method option as KEY=VALUE (JSON value), e.g. -o hidden=[128,256].")] = None,
) -> None:
    """Cross-validate a method: writes OUT/metrics.json, OUT/report.md and OUT/curves.png."""
    from ammgc.experiments.cv import run_cv
    from ammgc.paper import TABLE1, TABLE_METRICS
    from ammgc.reporting.tables import USER_METRIC_LABELS, USER_METRICS, metrics_line, views_note

    config = method_config(option, device, p_neg=p_neg, epochs_gcn=epochs_gcn, epochs_attention=epochs_attention)
    cv = splitter_from(split, folds, repeats, seed, cutoffs)
    chosen = build_method(method, config)
    with running(out=out, mirbase=mirbase, folds=execution):
        dataset = load_data(data)
        body = run_cv(chosen, dataset, cv, jobs=execution.workers, out=out, progress=True)
    mean, std, sem = body["mean"], body["std"], body["sem"]
    params = cv.params()
    plan = (f"cut-offs {', '.join(map(str, params['cutoffs']))}" if "cutoffs" in params
            else f"{params['repeats']} x {params['n_folds']}-fold")
    typer.echo(f"{method} ({params['split']} split, {plan}): {metrics_line(mean, std, TABLE_METRICS)}")
    paper = TABLE1.get(body["method"]) if dataset.paper and params["split"] == "pair" else None
    if paper is not None:  # the paper's own protocol on its own benchmark (its AMMGC used GO, not sequence)
        typer.echo(f"the paper ({body['method']}, 10 x 5-fold): "
                   + metrics_line({m: s[0] for m, s in paper.items()}, {m: s[1] for m, s in paper.items()},
                                  TABLE_METRICS))
    typer.echo(f"ranking (mean ± standard error): {metrics_line(mean, sem, USER_METRICS, USER_METRIC_LABELS)}")
    if "reference" in body:
        reference = body["reference"]
        typer.echo(f"{reference['method']} on the same folds: "
                   + metrics_line(reference["mean"], reference["sem"], USER_METRICS, USER_METRIC_LABELS))
    typer.echo(views_note(body["views"]))
    typer.echo(f"wrote {out / 'metrics.json'}, {out / 'report.md'}, {out / 'curves.png'}")
