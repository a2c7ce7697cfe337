"""`ammgc tune`: choose a method's defaults by an inner split of training data only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ammgc.cli.common import (
    CutoffsOption,
    DataOption,
    FoldExecution,
    MethodOption,
    MirbaseOption,
    SeedOption,
    SplitOption,
    load_data,
    parse_cutoffs,
    parse_options,
    running,
    user_modules_importable,
)


def grid_options(items: list[str] | None) -> list[dict[str, Any]] | None:
    """``KEY=[v1,v2]`` options -> every combination; None when no --grid was given (the method's own grid)."""
    from ammgc.experiments.tune import expand_grid

    if not items:
        return None
    axes: dict[str, list[Any]] = {}
    for key, values in parse_options(items).items():
        if not isinstance(values, list) or not values:
            raise typer.BadParameter(f"expected KEY=[value, ...] (a JSON list), got {key}={values!r}",
                                     param_hint="--grid")
        axes[key] = values
    return expand_grid(axes)


def tune(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    method: MethodOption = "ammgc",
    split: SplitOption = "study",
    cutoffs: CutoffsOption = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Outer folds (study, pair): tuning looks at the "
                                                              "training part of fold 0 only.")] = 5,
    inner_folds: Annotated[int, typer.Option("--inner-folds", min=2, help="Inner folds (study, pair).")] = 3,
    seed: SeedOption = 0,
    execution: FoldExecution,
    grid: Annotated[list[str] | None, typer.Option(
        "--grid", "-g", help="Values to try as KEY=[v1,v2] (JSON list); several multiply. Default: the method's "
                             "own grid (ammgc.experiments.tune.DEFAULT_GRIDS).")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A fixed method option as KEY=VALUE (JSON value) under every grid point.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable per grid point and fold).")
                   ] = Path("runs/tune"),
) -> None:
    """Grid search on an inner split of one outer fold's training data (no outer test pair): writes
    OUT/tune.md, OUT/tune.csv and OUT/best.json."""
    from ammgc.evaluation.splits import DEFAULT_CUTOFFS
    from ammgc.experiments.tune import run_tune

    split = split.strip().lower()
    if split not in ("pair", "study", "time"):
        raise typer.BadParameter("tuning supports pair, study and time", param_hint="--split")
    cutoff_values = parse_cutoffs(split, cutoffs) or DEFAULT_CUTOFFS
    points = grid_options(grid)
    if ":" in method:
        user_modules_importable()
    with running(out=out, mirbase=mirbase, folds=execution):
        chosen = run_tune(method, load_data(data), split=split, grid=points, base=parse_options(option),
                          inner_folds=inner_folds, seed=seed, n_folds=folds, cutoffs=cutoff_values,
                          jobs=execution.workers, out=out, progress=True)
    typer.echo(f"chosen for {method} under the {split} protocol: {json.dumps(chosen['point'], sort_keys=True)} "
               f"(inner AP {chosen['inner_ap']:.4f})")
    typer.echo(f"wrote {out / 'tune.md'}, {out / 'tune.csv'}, {out / 'best.json'}")
