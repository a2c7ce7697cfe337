"""`ammgc compare`: every comparison method of the paper's Table 1 on identical folds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ammgc.cli.common import DataOption, MirbaseOption, SeedOption, parse_options


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def method_options(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``METHOD.KEY=VALUE`` pairs -> {method: {key: value}} (values parsed as JSON when they are JSON)."""
    configs: dict[str, dict[str, Any]] = {}
    for key, value in parse_options(items).items():
        method, dot, option = key.partition(".")
        if not dot or not method or not option:
            raise typer.BadParameter(f"expected METHOD.KEY=VALUE, got {key}=...", param_hint="--option")
        configs.setdefault(method.lower(), {})[option] = value
    return configs


def compare(
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    methods: Annotated[str, typer.Option(
        "--methods", help="all (popularity, cf, lp, gf, sdne, gcmdr, ammgc) or a comma-separated list.")] = "all",
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds per repeat.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Repeats (seeds seed..seed+R-1).")] = 10,
    seed: SeedOption = 0,
    jobs: Annotated[int, typer.Option("--jobs", min=0, help="Folds run in parallel processes (0: one per core).")
                    ] = 0,
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable per method and fold).")
                   ] = Path("runs/compare"),
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method's option as METHOD.KEY=VALUE (JSON value), e.g. -o sdne.epochs=100.")
    ] = None,
) -> None:
    """Cross-validate the comparison methods on the same folds: writes OUT/table1.md, table1.csv, table1.png
    and OUT/<method>/metrics.json."""
    from ammgc.experiments.compare import run_compare
    from ammgc.runtime import default_jobs

    bodies = run_compare(data=data, mirbase=mirbase, methods=methods, configs=method_options(option),
                         n_folds=folds, repeats=repeats, seed=seed, jobs=jobs or default_jobs(), out=out)
    width = max(len(name) for name in bodies)
    for name, body in bodies.items():
        mean, std = body["mean"], body["std"]
        typer.echo(f"{name:<{width}}  AUPR {mean['aupr']:.4f} ± {std['aupr']:.4f}  AUC {mean['auc']:.4f} ± "
                   f"{std['auc']:.4f}  {mean['seconds']:.2f} s/fold")
    typer.echo(f"wrote {out / 'table1.md'}, {out / 'table1.csv'}, {out / 'table1.png'} and "
               f"{out}/<method>/metrics.json")
