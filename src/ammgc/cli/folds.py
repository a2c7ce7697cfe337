"""`ammgc folds export` and `ammgc evaluate`: a protocol's folds as plain files, and any tool's scores graded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ammgc.cli.common import App, CutoffsOption, DataOption, RepeatsOption, SeedOption, load_data, splitter_from

app = App(no_args_is_help=True, help="The open benchmark: a protocol's folds as plain files.")

#: --split names of the cold-start protocols beside the splitter kinds
SPLIT_NAMES = {"cold-drug": "drug", "cold-mirna": "mirna"}


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write (missing or empty; one holding this very "
                                                    "export is left as it is).")],
    data: DataOption = None,
    split: Annotated[str, typer.Option(
        "--split", help="pair (the paper's: random pairs), study (whole publications held out), time (train before "
                        "a cut-off, test after it), cold-drug or cold-mirna (whole drugs / miRNAs held out).")
    ] = "pair",
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds per repeat.")] = 5,
    repeats: RepeatsOption = None,
    seed: SeedOption = 0,
    cutoffs: CutoffsOption = None,
) -> None:
    """Write a protocol's folds: OUT/manifest.json, drugs.csv, mirnas.csv and OUT/<fold-id>/train.csv, test.csv,
    candidates.csv (docs/benchmark-your-method.md)."""
    from ammgc.evaluation.open_benchmark import export_folds

    kind = split.strip().lower()
    if kind not in ("pair", "study", "time", *SPLIT_NAMES, *SPLIT_NAMES.values()):
        raise typer.BadParameter(f"must be one of pair, study, time, {', '.join(SPLIT_NAMES)}, not {split!r}",
                                 param_hint="--split")
    cv = splitter_from(SPLIT_NAMES.get(kind, kind), folds, repeats, seed, cutoffs)
    kept = (out / "manifest.json").is_file()  # a folder holding this very export is left as it is
    manifest = export_folds(load_data(data), cv, out)
    typer.echo(f"{'kept' if kept else 'wrote'} {len(manifest['folds'])} folds of the {manifest['protocol']['split']} "
               f"split of {manifest['dataset']['name']} in {out} (folds_sha256 {manifest['folds_sha256'][:16]}, "
               f"dataset sha256 {manifest['dataset']['sha256'][:16]})")


def evaluate(
    folds: Annotated[Path, typer.Option("--folds", help="Folder written by `ammgc folds export`.")],
    predictions: Annotated[Path, typer.Option(
        "--predictions", help="Folder with <fold-id>/scores.csv (drug,mirna,score) for every exported fold.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: metrics.json, report.md, curves.png.")
                   ] = Path("runs/evaluate"),
    data: DataOption = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Name of the graded method in the outputs (default: the predictions folder's name).")
    ] = None,
) -> None:
    """Grade a tool's scores of exported folds as `ammgc cv` grades its own, beside popularity and
    popularity-studies on the same folds: writes OUT/metrics.json, OUT/report.md and OUT/curves.png."""
    from ammgc.experiments.grade import evaluate_predictions
    from ammgc.paper import TABLE_METRICS
    from ammgc.reporting.tables import USER_METRIC_LABELS, USER_METRICS, metrics_line

    body = evaluate_predictions(folds, predictions, out, dataset=load_data(data), label=name)
    mean, std, sem = body["mean"], body["std"], body["sem"]
    typer.echo(f"{body['label']} ({body['split']} split, {len(body['folds'])} folds): "
               f"{metrics_line(mean, std, TABLE_METRICS)}")
    typer.echo(f"ranking (mean ± standard error): {metrics_line(mean, sem, USER_METRICS, USER_METRIC_LABELS)}")
    for ref, diff in body["paired_differences"].items():
        ap, auc = diff["ap"], diff["auc"]
        typer.echo(f"minus {ref} on the same folds: AP {ap['mean']:+.4f} ± {ap['sem']:.4f}, "
                   f"AUC {auc['mean']:+.4f} ± {auc['sem']:.4f}")
    typer.echo(f"wrote {out / 'metrics.json'}, {out / 'report.md'}, {out / 'curves.png'}")
