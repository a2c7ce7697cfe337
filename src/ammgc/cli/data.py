"""`ammgc data ...`: inspect, check and fetch datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ammgc.cli.common import DataOption

if TYPE_CHECKING:
    from ammgc.data.dataset import Dataset

app = typer.Typer(no_args_is_help=True, help="Inspect, validate and download datasets.")


@app.command("info")
def info(data: DataOption = None, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Drugs, miRNAs, associations, density, degrees, views present and the data source."""
    from ammgc.data import load_dataset
    from ammgc.data.benchmark import DATASET_NAME, benchmark_notes

    dataset = load_dataset(data)
    notes = benchmark_notes(dataset) if dataset.name == DATASET_NAME else []
    _show(dataset, notes, [], as_json, publications=_publications_summary(dataset))


@app.command("check")
def check(
    path: Annotated[Path | None, typer.Argument(help="A benchmark directory, an own-data directory or an "
                                                     "association table (CSV/TSV); or give it with --data.")] = None,
    data: DataOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 when there are warnings."),
) -> None:
    """Validate a dataset thoroughly and report it: the `data info` summary plus warnings.

    A benchmark directory is also checked against the published hashes and features/drug_miRNA.xlsx.
    Without PATH or --data: the dataset every other command would use ($AMMGC_DATA, then the cache).
    """
    from ammgc.data import Benchmark, resolve_data_path
    from ammgc.data.benchmark import benchmark_notes, check_labelled_matrix, is_benchmark_dir
    from ammgc.data.byo import read_own_dataset
    from ammgc.errors import DataError

    if path is not None and data is not None and path != data:
        raise typer.BadParameter(f"give the dataset once: PATH {path} or --data {data}", param_hint="--data")
    if path is not None and not path.exists():
        raise DataError("no such file or directory", file=path)
    path = resolve_data_path(path if path is not None else data)

    if path.is_dir() and is_benchmark_dir(path):
        benchmark = Benchmark(path)
        dataset = benchmark.load()
        check_labelled_matrix(path, dataset)
        notes, warnings = benchmark_notes(dataset), benchmark.verify()
    else:
        own = read_own_dataset(path)
        dataset, notes, warnings = own.dataset, [], own.warnings
    _show(dataset, notes, warnings, as_json, publications=_publications_summary(dataset))
    if not as_json:
        typer.echo(f"check: ok ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})")
    if strict and warnings:
        raise typer.Exit(1)


@app.command("fetch")
def fetch(
    dest: Annotated[Path | None, typer.Option(
        "--dest", help="Directory to fill (default: the user cache, $AMMGC_HOME/gcmdr or the "
                       "platform's cache directory).")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="Mirror holding the benchmark layout (ncDR's table and the target networks at "
                           "its top level), used instead of the public homes (default: $AMMGC_BASE_URL).")] = None,
    go: Annotated[bool, typer.Option("--go/--no-go",
                                     help="Also fetch the optional GO similarity file.")] = True,
    archive: Annotated[bool, typer.Option(
        "--archive", help="Also fetch and unpack the authors' 'miRNA-drug data.zip'.")] = False,
    ncdr: Annotated[bool, typer.Option("--ncdr/--no-ncdr", help="Also fetch ncDR's curated table (the "
                                       "publication of each association, for --split study/time).")] = True,
    mirbase: Annotated[bool, typer.Option("--mirbase/--no-mirbase", help="Also fetch miRBase's hairpin and mature "
                                          "sequences (the miRNA `sequence` view), so that the default model "
                                          "then runs with no network.")] = True,
    side: Annotated[bool, typer.Option("--side/--no-side", help="Also fetch the TargetScan and miRWalk target "
                                       "networks of SimNetRLMDA (optional miRNA views; not shipped, no licence)."
                                       )] = False,
    force: Annotated[bool, typer.Option("--force",
                                        help="Download again even if cached and verified.")] = False,
    retries: Annotated[int, typer.Option("--retries", min=0, max=10,
                                         help="Retries per file on transient failures.")] = 3,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, help="Network timeout in seconds.")] = 30.0,
) -> None:
    """Download the benchmark from its public homes, verify each file by its git blob SHA-1, and cache it; with
    miRBase and ncDR's table (by default), everything the default model and the honest protocols need, so
    that later runs need no network."""
    from ammgc.data import Benchmark, Mirbase, Ncdr, TargetNetworks
    from ammgc.data.source import FetchResult
    from ammgc.errors import DownloadError

    def report(result: FetchResult) -> None:
        detail = f" ({result.detail})" if result.detail else ""
        typer.echo(f"{result.status:<10} {result.path}{detail}")

    options = {"base_url": base_url, "force": force, "retries": retries, "timeout_s": timeout, "report": report}
    target = dest or Benchmark().cache
    results = Benchmark().download(target, include_go=go, with_archive=archive, **options)
    # optional extras: one that cannot be reached is reported and skipped; one served wrong is still an error
    for wanted, source, label, use in (
            (ncdr, Ncdr(), "ncDR table", "the study and time splits of the benchmark need it"),
            (side, TargetNetworks(), "target networks", "only the optional target-network miRNA views need them")):
        if wanted:
            fetched = source.download(strict=False, **options)
            ready = all(r.status != "absent" for r in fetched)
            typer.echo(f"{label} ready in {source.cache}" if ready else f"{label} not available: {use}")
    if mirbase:
        try:
            typer.echo(f"miRBase ready in {Mirbase().resolve()}")
        except DownloadError as exc:
            typer.echo(f"miRBase not available ({exc}); the `sequence` view will be fetched on first use")
    if any(r.path.endswith("ncrna_GOsimilarity_full.txt") and r.status == "absent" for r in results):
        typer.echo("GO similarity file not available: the miRNA `sequence` view (miRBase) "
                   "will stand in for it")
    typer.echo(f"benchmark ready in {target}")


def _publications_summary(dataset: Dataset) -> dict[str, object]:
    """Where and when the associations were reported, as far as known without a download."""
    from ammgc.data import Ncdr
    from ammgc.data.benchmark import DATASET_NAME

    publications = dataset.publications
    if publications is None and dataset.name == DATASET_NAME:
        found = Ncdr().find()
        if found is None:
            return {"status": f"ncDR's table is not in the cache: `ammgc data fetch` gets it (or set {Ncdr.env})"}
        publications = Ncdr(found).load(dataset)
    if publications is None:
        return {"status": "none: add a pmid column (or source and year) to the association table for the "
                          "study and time splits"}
    return {"status": "ok", **publications.summary(dataset.drug_names, dataset.mirna_names)}


def _show(dataset: Dataset, notes: list[str], warnings: list[str], as_json: bool,
          publications: dict[str, object] | None = None) -> None:
    summary = dataset.summary()
    if as_json:
        typer.echo(json.dumps({**summary, "publications": publications, "notes": notes, "warnings": warnings},
                              indent=2))
        return
    typer.echo(f"source:       {summary['source']}")
    typer.echo(f"drugs:        {summary['drugs']}")
    typer.echo(f"miRNAs:       {summary['mirnas']}")
    typer.echo(f"associations: {summary['associations']:,}  (density {summary['density']:.4f})")
    for entity, label in (("drug", "drug degree: "), ("mirna", "miRNA degree:")):
        d = summary[f"{entity}_degree"]
        typer.echo(f"{label} min {d['min']}, median {d['median']:g}, mean {d['mean']:.2f}, "
                   f"max {d['max']}, zero {d['zero']}")
    typer.echo("views:")
    for v in summary["views"]:
        note = f"  [{v['note']}]" if v["note"] else ""
        shape = f"{v['shape'][0]} x {v['shape'][1]}"
        typer.echo(f"  {v['name']:<14} {v['entity']:<6} {shape:<12} {v['source']}{note}")
    if "go" in dataset.views:
        typer.echo("GO similarity view: present")
    else:
        typer.echo("GO similarity view: absent -> the miRNA `sequence` view (miRBase) stands in for it")
    if publications is not None:
        _show_publications(publications)
    if notes:
        typer.echo("notes on this benchmark:")
        for note in notes:
            typer.echo(f"  - {note}")
    if warnings:
        typer.echo("warnings:")
        for warning in warnings:
            typer.echo(f"  - {warning}")


def _show_publications(p: dict[str, object]) -> None:
    if p["status"] != "ok":
        typer.echo(f"publications: {p['status']}")
        return
    typer.echo(f"publications: {p['mapped']:,} of {p['pairs']:,} associations mapped ({100 * p['coverage']:.2f}%) "
               f"from {p['source']}")
    typer.echo(f"  first reports in {p['groups']} publications; largest: "
               f"{', '.join(map(str, p['largest_groups']))} pairs; {p['groups_of_50_or_more']} publications of 50+ "
               f"pairs hold {p['pairs_in_groups_of_50_or_more']:,}; {p['singleton_groups']} report one pair")
    typer.echo(f"  matched by: {', '.join(f'{k} {v}' for k, v in p['rules'].items())}")
    unmapped = p["unmapped"]
    if unmapped:
        typer.echo(f"  unmapped ({len(unmapped)}; study split: a group each; time split: left out):")
        for u in unmapped:
            typer.echo(f"    {u['drug']} - {u['mirna']}: {u['reason']}")
