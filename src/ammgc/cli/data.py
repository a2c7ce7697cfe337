"""`ammgc data ...`: inspect, check and fetch datasets."""

from __future__ import annotations

import json

import typer

from ammgc.cli.common import DataOption

app = typer.Typer(no_args_is_help=True, help="Inspect, validate and download datasets.")


@app.command("info")
def info(data: DataOption = None, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Drugs, miRNAs, associations, density, degrees, views present and the data source."""
    from ammgc.data import load_dataset

    dataset = load_dataset(data)
    summary = dataset.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"source:       {summary['source']}")
    typer.echo(f"drugs:        {summary['drugs']}")
    typer.echo(f"miRNAs:       {summary['mirnas']}")
    typer.echo(f"associations: {summary['associations']}  (density {summary['density']:.4f})")
    for entity in ("drug", "mirna"):
        d = summary[f"{entity}_degree"]
        typer.echo(f"{entity} degree:  min {d['min']}, median {d['median']:g}, mean {d['mean']:.2f}, "
                   f"max {d['max']}, zero {d['zero']}")
    typer.echo("views:")
    for v in summary["views"]:
        typer.echo(f"  {v['name']:<14} {v['entity']:<6} {v['shape'][0]} x {v['shape'][1]:<6} {v['source']}")
    if "go" not in dataset.views:
        typer.echo("GO similarity view: absent -> the miRNA `sequence` view (miRBase) stands in for it")
