"""`ammgc features ...`: the feature views, their shapes, sources and coverage."""

from __future__ import annotations

import json

import typer

from ammgc.cli.common import App, DataOption, MirbaseOption

app = App(no_args_is_help=True, help="Inspect the drug and miRNA feature views.")


@app.command("info")
def info(data: DataOption = None, mirbase: MirbaseOption = None,
         as_json: bool = typer.Option(False, "--json", help="Print JSON (with per-miRNA resolution)."),
         show_rows: bool = typer.Option(False, "--rows", help="List how each miRNA name was resolved.")
         ) -> None:
    """Every view (file and computed): shape, source, agreement with the files and miRBase coverage."""
    from ammgc.data import load_dataset
    from ammgc.features import describe_views
    from ammgc.features.names import RULES

    dataset = load_dataset(data)
    report = describe_views(dataset, mirbase=mirbase)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"data: {report['source']}")
    x_m2 = report["x_m2"]
    typer.echo(f"miRNA view X_m2: {x_m2}" + ("" if x_m2 == "go" else
               "  (GO similarity absent: the miRBase 'sequence' view stands in for it)"))
    typer.echo(f"{'view':<19} {'entity':<6} {'kind':<9} {'shape':<11} source")
    sequence = None
    for v in report["views"]:
        shape = f"{v['shape'][0]} x {v['shape'][1]}" if v["shape"] else "-"
        typer.echo(f"{v['name']:<19} {v['entity']:<6} {v['kind']:<9} {shape:<11} {v['source'] or '-'}")
        if v.get("note") and v["name"] != "sequence":
            typer.echo(f"{'':<19} {v['note']}")
        if v["name"] == "sequence":
            sequence = v
    if sequence is None:
        return
    coverage = sequence.get("coverage")
    if coverage is None:
        typer.echo(f"sequence view: {sequence['note']}")
        return
    cat = sequence["catalogue"]
    older = (f" (+ release {', '.join(cat['older_releases'])} for renamed/removed names)"
             if cat["older_releases"] else "")
    typer.echo(f"\nsequence view: {cat['human_stem_loops']} human stem-loops of miRBase release "
               f"{cat['current_release']}{older}, from {cat['directory']}")
    typer.echo(f"  {sequence['note'].split('; ')[0]}")
    typer.echo(f"coverage: {coverage['resolved']}/{coverage['total']} miRNAs resolved")
    for rule, n in coverage["by_rule"].items():
        typer.echo(f"  {rule:<15} {n:>4}  {RULES[rule]}")
    if coverage["unresolved"]:
        typer.echo(f"unresolved ({len(coverage['unresolved'])}, mean of resolved rows): "
                   + ", ".join(coverage["unresolved"]))
    if show_rows:
        for row in coverage["rows"]:
            typer.echo(f"  {row['name']:<22} {row['rule']:<15} {', '.join(row['targets'])}")
