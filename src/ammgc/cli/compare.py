"""`ammgc compare`: every comparison method of the paper's Table 1 on identical folds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ammgc.cli.common import (
    CutoffsOption,
    DataOption,
    FoldExecution,
    MirbaseOption,
    RepeatsOption,
    SeedOption,
    load_data,
    parse_options,
    running,
    splitter_from,
    user_modules_importable,
)


def method_options(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``METHOD.KEY=VALUE`` pairs -> {method: {key: value}} (values parsed as JSON when they are JSON)."""
    configs: dict[str, dict[str, Any]] = {}
    for key, value in parse_options(items).items():
        method, dot, option = key.rpartition(".")
        if not dot or not method or not option:
            raise typer.BadParameter(f"expected METHOD.KEY=VALUE, got {key}=...", param_hint="--option")
        # a module:Class keeps its case; a built-in name is matched in lower case
        configs.setdefault(method if ":" in method else method.lower(), {})[option] = value
    return configs


def compare(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    methods: Annotated[str, typer.Option(
        "--methods", help="all (popularity, popularity-studies, cf, cf-mirna, lp, gf, sdne, gcmdr, ammgc, "
                          "ammgc-pairs, ammgc-paper) or a comma-separated list of methods, presets and "
                          "module:Class (a class of your own, imported from the current directory).")] = "all",
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds per repeat.")] = 5,
    repeats: RepeatsOption = None,
    seed: SeedOption = 0,
    split: Annotated[str, typer.Option(
        "--split", help="Protocol(s), comma-separated: pair (the paper's), study, time, drug, mirna. With several, "
                        "each goes to OUT/<split>/ and OUT/protocols.md compares them.")] = "pair",
    cutoffs: CutoffsOption = None,
    execution: FoldExecution,
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable per method and fold).")
                   ] = Path("runs/compare"),
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method's option as METHOD.KEY=VALUE (JSON value), e.g. -o sdne.epochs=100.")
    ] = None,
) -> None:
    """Cross-validate the comparison methods on the same folds: writes OUT/table1.md, table1.csv, table1.png
    and OUT/<method>/metrics.json (with several --split protocols: OUT/<split>/... and OUT/protocols.md)."""
    from ammgc.experiments.compare import run_compare, run_protocols, select_methods

    names = [s.strip() for s in split.split(",") if s.strip()]
    if not names or len(set(names)) != len(names):
        raise typer.BadParameter(f"expected distinct protocols like pair,study,time, got {split!r}",
                                 param_hint="--split")
    if cutoffs is not None and "time" not in names:
        raise typer.BadParameter("only the time split has cut-offs", param_hint="--cutoffs")
    if repeats is not None and len(names) > 1:
        raise typer.BadParameter("with several protocols each uses its default number of repeats (pair 10, "
                                 "study 5, time 1); run them one by one to choose", param_hint="--repeats")
    splitters = [splitter_from(name, folds, repeats, seed, cutoffs if name == "time" else None) for name in names]
    if ":" in methods:
        user_modules_importable()
    compared = select_methods(methods, method_options(option))
    skip = any(m.strip().lower() == "all" for m in methods.split(","))
    with running(out=out, mirbase=mirbase, folds=execution):
        dataset = load_data(data)
        if len(splitters) == 1:
            results = {names[0]: run_compare(compared, dataset, splitters[0], jobs=execution.workers, out=out,
                                             progress=True, skip_unavailable=skip)}
        else:
            results = run_protocols(compared, dataset, splitters, out=out, jobs=execution.workers, progress=True,
                                    skip_unavailable=skip)
    for name, bodies in results.items():
        width = max(len(m) for m in bodies)
        typer.echo(f"{name} split:")
        for method, body in bodies.items():
            mean, sem = body["mean"], body["sem"]
            typer.echo(f"  {method:<{width}}  AP {mean['ap']:.4f} ± {sem['ap']:.4f}  AUC {mean['auc']:.4f} ± "
                       f"{sem['auc']:.4f}  per-drug AP {mean['drug_ap']:.4f}  P@100 {mean['prec_at_100']:.4f}  "
                       f"{mean['seconds']:.2f} s/fold")
    if len(names) == 1:
        typer.echo(f"wrote {out / 'table1.md'}, {out / 'table1.csv'}, {out / 'table1.png'} and "
                   f"{out}/<method>/metrics.json")
    else:
        typer.echo(f"wrote {out / 'protocols.md'}, {out / 'protocols.csv'} and {out}/<split>/table1.md")
