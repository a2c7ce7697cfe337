"""`ammgc data ...`: inspect, check and fetch datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ammgc.cli.common import App, DataOption, MirbaseOption

if TYPE_CHECKING:
    from ammgc.data.dataset import Dataset

app = App(no_args_is_help=True, help="Inspect, validate and download datasets.")


@app.command("info")
def info(data: DataOption = None, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Drugs, miRNAs, associations, density, degrees, views present and the data source."""
    from ammgc.data import load_dataset
    from ammgc.data.benchmark import benchmark_notes

    dataset = load_dataset(data)
    notes = benchmark_notes(dataset) if dataset.paper else []
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
                                       "publication of each association; the benchmark's own ship in the package, "
                                       "the table is for `ammgc data derive` and edited copies).")] = True,
    mirbase: Annotated[bool, typer.Option("--mirbase/--no-mirbase", help="Also fetch miRBase's hairpin and mature "
                                          "sequences (the `sequence` view of new miRNAs and own data; the "
                                          "benchmark's own view ships in the package).")] = True,
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
    miRBase and ncDR's table (by default), so that later runs need no network for new miRNAs or own data either.

    Exit status 1 when something asked for could not be fetched (each is listed); what could be, is kept."""
    from ammgc.data import Benchmark, Mirbase, Ncdr, TargetNetworks
    from ammgc.data.benchmark import GO_FILE
    from ammgc.data.source import FetchResult
    from ammgc.errors import DownloadError

    def report(result: FetchResult) -> None:
        detail = f" ({result.detail})" if result.detail else ""
        typer.echo(f"{result.status:<10} {result.path}{detail}")

    options = {"base_url": base_url, "force": force, "retries": retries, "timeout_s": timeout, "report": report}
    target = dest or Benchmark().cache
    missing: list[str] = []
    results = Benchmark().download(target, include_go=go, with_archive=archive, **options)
    missing.extend(r.path for r in results if r.status == "absent")
    # optional extras: one that cannot be reached is reported and the rest still fetched; one served wrong is
    # still an error
    for wanted, source, label, use in (
            (ncdr, Ncdr(), "ncDR table", "only `ammgc data derive` and edited benchmark copies need it"),
            (side, TargetNetworks(), "target networks", "only the optional target-network miRNA views need them")):
        if wanted:
            fetched = source.download(strict=False, **options)
            absent = [r.path for r in fetched if r.status == "absent" and any(
                f.path == r.path and f.required for f in source.files)]
            typer.echo(f"{label} not available: {use}" if absent else f"{label} ready in {source.cache}")
            missing.extend(absent)
    if mirbase:
        try:
            typer.echo(f"miRBase ready in {Mirbase().resolve()}")
        except DownloadError as exc:
            typer.echo(f"miRBase not available ({exc}); the `sequence` view of new miRNAs and own data will be "
                       f"fetched on first use (the benchmark's ships in the package)")
            missing.append("miRBase (hairpin.fa, mature.fa)")
    if any(r.path == GO_FILE and r.status == "absent" for r in results):
        typer.echo("GO similarity file not available: the miRNA `sequence` view (miRBase) "
                   "will stand in for it")
    typer.echo(f"benchmark ready in {target}")
    if missing:
        typer.echo(f"not fetched: {', '.join(missing)} (see above; without network, the shipped benchmark and "
                   f"its derived data are all the default model needs)", err=True)
        raise typer.Exit(1)


@app.command("derive")
def derive(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the derived files into (xz-compressed, "
                                                    "as they ship in ammgc/data/derived).")],
    ncdr: Annotated[Path | None, typer.Option(
        "--ncdr", help="ncDR's curated table, a file or a folder holding it (default: $AMMGC_NCDR, then the "
                       "user cache, then a verified download).")] = None,
    mirbase: MirbaseOption = None,
    data: DataOption = None,
    check: Annotated[bool, typer.Option("--check", help="Exit with status 1 when a derived file differs from the "
                                                        "copy shipped in the package.")] = False,
) -> None:
    """Recompute the files the package ships about the benchmark's own pairs and miRNAs: each pair's PubMed ids
    from ncDR's table, and the miRNAs' `sequence` view from miRBase (checked to rebuild the computed view bit
    for bit); then compare each with the shipped copy."""
    from ammgc.data.benchmark import load_benchmark
    from ammgc.data.derived import write_derived
    from ammgc.features.mirna import load_catalogue
    from ammgc.features.shipped import derive as derive_files
    from ammgc.io import ensure_writable_dir

    dataset = load_benchmark(data)
    catalogue = load_catalogue(mirbase)
    out = ensure_writable_dir(out)
    typer.echo(f"deriving from ncDR's table and miRBase release {catalogue.current.label} "
               f"({catalogue.directory}) for {dataset.source}")
    written = write_derived(derive_files(dataset, ncdr=ncdr, catalogue=catalogue), out)
    for f in written:
        same = "same as shipped" if f.same_as_shipped else "DIFFERS from the shipped copy"
        typer.echo(f"{f.path}  {f.bytes:,} bytes uncompressed, git blob {f.blob_sha1}  ({same})")
    differ = [f.name for f in written if not f.same_as_shipped]
    if differ:
        typer.echo(f"to ship them: copy them into src/ammgc/data/derived and set their hashes in "
                   f"ammgc.data.derived.SHIPPED ({', '.join(differ)} differ)")
    else:
        typer.echo("every derived file equals the shipped copy")
    if check and differ:
        raise typer.Exit(1)


def _publications_summary(dataset: Dataset) -> dict[str, object]:
    """Where and when the associations were reported, as far as known without a download."""
    from ammgc.data import Ncdr

    publications = dataset.publications
    if publications is None and dataset.paper:
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
