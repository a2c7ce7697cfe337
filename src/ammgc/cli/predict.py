"""`ammgc train` and `ammgc predict`: train once on every known association, rank pairs for known and new
drugs and miRNAs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ammgc.cli.common import (
    DataOption,
    DeviceOption,
    EpochsAttentionOption,
    EpochsGcnOption,
    MirbaseOption,
    PNegOption,
    SeedOption,
    method_config,
)
from ammgc.runtime import training_threads

DrugFeaturesOption = Annotated[str, typer.Option(
    "--drug-features", help="smiles: drug views computed from SMILES, as new drugs get them (default); "
                            "files: the dataset's drug feature files (the paper's setting).")]
CalibrateOption = Annotated[bool, typer.Option(
    "--calibrate/--no-calibrate", help="Evaluate the configuration out of fold on the study-grouped split first "
                                       "(5 more trainings), so predictions get a probability and an expected "
                                       "precision.")]
ConfigOption = Annotated[list[str] | None, typer.Option(
    "--option", "-o", help="Any AMMGC option as KEY=VALUE (JSON value), e.g. -o hidden=[128,256].")]
SHOWN_ROWS = 20
# What cold-start cross-validation on the benchmark showed (docs: "Cold start"); said wherever it matters.
NEW_DRUG_CAUTION = ("caution: a new drug enters the graph without edges; in drug-split cross-validation on the "
                    "benchmark, AMMGC's rankings for held-out drugs were no better than ranking miRNAs by their "
                    "number of known associations")
NEW_MIRNA_CAUTION = ("caution: a new miRNA enters the graph without edges; in miRNA-split cross-validation on the "
                     "benchmark, AMMGC's rankings for held-out miRNAs were no better than ranking drugs by their "
                     "number of known associations")


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)
    app.command("train")(train)
    app.command("predict")(predict)


def _train(data: Path | None, mirbase: Path | None, config: dict[str, Any], seed: int, drug_features: str,
           calibrate: bool) -> Any:
    import torch

    from ammgc.data import load_dataset
    from ammgc.prediction.training import train_model

    dataset = load_dataset(data)
    torch.set_num_threads(training_threads())
    typer.echo(f"training AMMGC on {dataset.n_associations} associations of {dataset.n_drugs} drugs x "
               f"{dataset.n_mirnas} miRNAs ({dataset.source}), seed {seed} ...", err=True)
    model = train_model(dataset, config, seed=seed, mirbase=mirbase, drug_features=drug_features,
                        calibrate=calibrate)
    for note in model.info.get("notes", []):
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"trained in {model.info['seconds']:.1f} s; modals: "
               + "; ".join(f"{'+'.join(m.drug_views)} x {'+'.join(m.mirna_views)}" for m in model.modals), err=True)
    if model.calibration is not None:
        c = model.calibration
        typer.echo(f"calibration: {c.method} on {c.folds} {c.protocol}-split folds (held-out Brier "
                   f"{c.measured[c.method]['brier']:.5f}, ECE {c.measured[c.method]['ece']:.5f})", err=True)
    return model


def train(
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    out: Annotated[Path, typer.Option("--out", help="Model file to write.")] = Path("model.ammgc"),
    seed: SeedOption = 0,
    drug_features: DrugFeaturesOption = "smiles",
    epochs_gcn: EpochsGcnOption = None,
    epochs_attention: EpochsAttentionOption = None,
    p_neg: PNegOption = None,
    device: DeviceOption = "cpu",
    calibrate: CalibrateOption = True,
    option: ConfigOption = None,
) -> None:
    """Train AMMGC on every known association and save it as one model file for `ammgc predict --model`;
    with calibration (the default) also OUT.reliability.png, the reliability diagram."""
    from ammgc.io import check_output_file
    from ammgc.models.modelfile import save_model

    check_output_file(out, option="--out", inputs=[data, mirbase])
    check_output_file(reliability_path(out), option="--out (its reliability diagram)", inputs=[data, mirbase])
    config = method_config(option, device, epochs_gcn=epochs_gcn, epochs_attention=epochs_attention, p_neg=p_neg)
    model = _train(data, mirbase, config, seed, drug_features, calibrate)
    size = save_model(out, model)
    typer.echo(f"wrote {out} ({size / 1e6:.1f} MB)")
    if model.calibration is not None:
        from ammgc.reporting.figures import plot_reliability

        figure = reliability_path(out)
        plot_reliability(model.calibration, figure)
        typer.echo(f"wrote {figure}")


def _explainer(model: Any, data: Path | None, mirbase: Path | None, extended: Any = None) -> Any:
    """An explainer over the training dataset (with the views the model was trained with), and over the new
    entities of ``extended`` when given."""
    from ammgc.data import load_dataset
    from ammgc.features import ensure_views
    from ammgc.prediction.explain import Explainer

    dataset = ensure_views(load_dataset(data), [*model.drug_views, *model.mirna_views], mirbase=mirbase)
    return Explainer(model, dataset, extended)


def _neighbours(extended: Any, explainer: Any) -> dict[tuple[str, int], Any]:
    """Nearest known drugs / miRNAs of each new one, from the training dataset's views and the new entities'
    view rows that ``extend`` computed."""
    out: dict[tuple[str, int], Any] = {}
    for k, index in enumerate(extended.new_drugs):
        out[("drug", index)] = explainer.nearest("drug", {v: r[k] for v, r in extended.drug_rows.items()})
    for k, index in enumerate(extended.new_mirnas):
        out[("miRNA", index)] = explainer.nearest("mirna", {v: r[k] for v, r in extended.mirna_rows.items()})
    return out


NewDrugOption = Annotated[list[str] | None, typer.Option(
    "--new-drug", help="Name of a drug not in the model; give its --smiles (repeatable, in order).")]
SmilesOption = Annotated[list[str] | None, typer.Option("--smiles", help="SMILES of each --new-drug.")]
NewMirnaOption = Annotated[list[str] | None, typer.Option(
    "--new-mirna", help="Name of a miRNA not in the model; give its --sequence (repeatable).")]
SequenceOption = Annotated[list[str] | None, typer.Option(
    "--sequence", help="Sequence of each --new-mirna: stem-loop (preferred) or mature, A/C/G/U/T.")]


def _new_entity_report(model: Any, extended: Any, explainer: Any, data: Path | None, mirbase: Path | None
                       ) -> tuple[Any, list[str]]:
    """Print what is known about each new entity (nearest known ones, warnings, the cold-start caution);
    return the explainer over the training dataset (None when it cannot be built) and the lines printed."""
    from ammgc.errors import AmmgcError
    from ammgc.prediction.explain import new_entity_notes

    neighbours = None
    lines = []
    try:
        explainer = explainer or _explainer(model, data, mirbase, extended)
        neighbours = _neighbours(extended, explainer)
    except AmmgcError as exc:
        lines.append(f"note: nearest known neighbours of new entities not shown ({exc}); pass the training "
                     f"dataset with --data")
    lines += [n if n.startswith("warning:") else f"note: {n}" for n in new_entity_notes(extended, model, neighbours)]
    lines += [NEW_DRUG_CAUTION] * bool(extended.new_drugs) + [NEW_MIRNA_CAUTION] * bool(extended.new_mirnas)
    for line in lines:
        typer.echo(line, err=True)
    return explainer, lines


def _only_new(names: list[str], what: str, option: str) -> str:
    if len(names) != 1:
        raise typer.BadParameter(f"name the {what} to explain ({len(names)} new {what}s given)", param_hint=option)
    return names[0]


def explain(
    model_file: Annotated[Path, typer.Option("--model", help="A model file from `ammgc train`.")],
    drug: Annotated[str | None, typer.Option(
        "--drug", help="Drug name (a name shared by several entries explains each); "
                       "default: the one --new-drug.")] = None,
    mirna: Annotated[str | None, typer.Option("--mirna", help="miRNA name; default: the one --new-mirna.")] = None,
    new_drug: NewDrugOption = None,
    smiles: SmilesOption = None,
    new_mirna: NewMirnaOption = None,
    sequence: SequenceOption = None,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    top: Annotated[int, typer.Option("--top", min=1, max=50, help="Evidence items per side.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why a pair scores as it does: the activity prior's part and the embeddings' part of the score, and
    the known associations most similar to it (miRNAs already linked to the drug, drugs already linked to
    the miRNA), with the view and similarity that connect them. A new drug or miRNA (--new-drug/--smiles,
    --new-mirna/--sequence) is explained against the known ones, with its nearest known neighbours and a
    warning where its features carry no information. --data must be the training dataset."""
    import json

    from ammgc.models.modelfile import load_model
    from ammgc.prediction.explain import explanation_text
    from ammgc.prediction.new_entities import new_drugs, new_mirnas, pair_up
    from ammgc.prediction.ranking import resolve_names

    drugs_new = new_drugs(pair_up(new_drug or [], smiles or [], name_option="--new-drug", value_option="--smiles"))
    mirnas_new = new_mirnas(pair_up(new_mirna or [], sequence or [], name_option="--new-mirna",
                                    value_option="--sequence"))
    drug = drug if drug is not None else _only_new([d.name for d in drugs_new], "drug", "--drug")
    mirna = mirna if mirna is not None else _only_new([m.name for m in mirnas_new], "miRNA", "--mirna")
    model = load_model(model_file)
    extended = model.extend(drugs_new, mirnas_new, mirbase=mirbase) if drugs_new or mirnas_new else None
    explainer = _explainer(model, data, mirbase, extended)
    if extended is not None:
        for note in extended.notes:
            typer.echo(f"note: {note}", err=True)
        _new_entity_report(model, extended, explainer, data, mirbase)
    drugs = resolve_names([drug], explainer.drug_names, what="drug")
    mirnas = resolve_names([mirna], explainer.mirna_names, what="miRNA")
    explanations = [explainer.explain(d, m, top=top) for d in drugs for m in mirnas]
    if as_json:
        typer.echo(json.dumps([e.as_dict() for e in explanations], indent=2))
        return
    for e in explanations:
        typer.echo(explanation_text(e))


def reliability_path(model_file: Path) -> Path:
    return model_file.with_name(model_file.name + ".reliability.png")


def _parse_top(top: str) -> int | None:
    if top.strip().lower() == "all":
        return None
    try:
        value = int(top)
    except ValueError:
        raise typer.BadParameter(f"expected a positive number or 'all', got {top!r}", param_hint="--top") from None
    if value < 1:
        raise typer.BadParameter(f"expected a positive number or 'all', got {top!r}", param_hint="--top")
    return value


def predict(
    model_file: Annotated[Path | None, typer.Option(
        "--model", help="A model file from `ammgc train` (otherwise a model is trained here).")] = None,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    top: Annotated[str, typer.Option("--top", help="How many pairs to rank: a number or 'all'.")] = "20",
    drug: Annotated[list[str] | None, typer.Option("--drug", help="Rank only these drugs (repeatable).")] = None,
    mirna: Annotated[list[str] | None, typer.Option("--mirna", help="Rank only these miRNAs (repeatable).")] = None,
    new_drug: NewDrugOption = None,
    smiles: SmilesOption = None,
    new_drugs_file: Annotated[Path | None, typer.Option(
        "--new-drugs", help="CSV of new drugs with columns name,smiles.")] = None,
    new_mirna: NewMirnaOption = None,
    sequence: SequenceOption = None,
    new_mirnas_file: Annotated[Path | None, typer.Option(
        "--new-mirnas", help="CSV of new miRNAs with columns name,sequence.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the ranking to this CSV; - writes it to standard output (messages go to stderr).")] = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Also write the ranking as one self-contained HTML page (search, sort, column meanings, "
                       "calibration diagram; no network needed to open it).")] = None,
    save: Annotated[Path | None, typer.Option("--save-model", help="Also save the trained model here.")] = None,
    seed: SeedOption = 0,
    drug_features: DrugFeaturesOption = "smiles",
    epochs_gcn: EpochsGcnOption = None,
    epochs_attention: EpochsAttentionOption = None,
    p_neg: PNegOption = None,
    device: DeviceOption = "cpu",
    calibrate: CalibrateOption = True,
    evidence: Annotated[bool, typer.Option(
        "--evidence", help="Add an evidence column: the 3 known associations most similar to each pair "
                           "(see `ammgc explain`).")] = False,
    option: ConfigOption = None,
) -> None:
    """Rank unobserved drug-miRNA pairs by AMMGC score, or every partner of new drugs / miRNAs.

    Trains on every known association, or loads --model. CSV columns: rank, drug_index, drug,
    mirna_index, mirna (0-based indices in the dataset's order; new drugs and miRNAs are numbered after
    the known ones, in the order given); score, the model's logit: a ranking key (higher = more likely),
    not a probability; and, for a calibrated model, percentile (share of all candidate pairs scored
    lower, 0-100), probability (the chance that a pair at this rank was a held-out positive when the
    configuration was evaluated on unseen publications) and expected_precision (the share of held-out
    positives at this rank or better in that evaluation); with --evidence, evidence (the 3 known
    associations most similar to the pair, with view and similarity).
    """
    from ammgc.errors import AmmgcError
    from ammgc.io import check_output_file, is_stdout, write_text_output
    from ammgc.prediction.new_entities import new_drugs, new_mirnas, pair_up
    from ammgc.prediction.training import rank

    limit = _parse_top(top)
    inputs = [model_file, data, mirbase, new_drugs_file, new_mirnas_file]
    to_stdout = is_stdout(out)  # then standard output carries the CSV alone
    outputs = [(o, path) for o, path in (("--out", out), ("--html", html), ("--save-model", save))
               if path is not None and not (o == "--out" and to_stdout)]
    for option_name, path in outputs:
        if is_stdout(path):
            raise AmmgcError(f"{option_name} -: only --out writes to standard output (the CSV); give a file name")
        if option_name == "--out" and str(path) in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
            raise AmmgcError(f"--out {path} is not a file to replace; for standard output give --out -")
        check_output_file(path, option=option_name, inputs=inputs)
    for k, (first, a) in enumerate(outputs):
        for second, b in outputs[k + 1:]:
            if a.resolve() == b.resolve():
                raise AmmgcError(f"{first} and {second} name the same file {a}; give each output its own")
    drugs_new = new_drugs(pair_up(new_drug or [], smiles or [], name_option="--new-drug", value_option="--smiles"),
                          new_drugs_file)
    mirnas_new = new_mirnas(pair_up(new_mirna or [], sequence or [], name_option="--new-mirna",
                                    value_option="--sequence"), new_mirnas_file)
    config = method_config(option, device, epochs_gcn=epochs_gcn, epochs_attention=epochs_attention, p_neg=p_neg)
    if model_file is not None:
        from ammgc.models.modelfile import describe, load_model, version_differences

        if config or drug_features != "smiles" or save is not None or not calibrate:
            raise AmmgcError("training options (--epochs-*, --p-neg, --device, -o, --drug-features, --save-model, "
                             "--no-calibrate) "
                             "do not apply to a saved model (--model); retrain with `ammgc train` to change them")
        model = load_model(model_file)
        if data is not None:
            from ammgc.data import load_dataset

            model.check_dataset(load_dataset(data))
        summary = describe(model)
        typer.echo(f"model {model_file}: {summary['drugs']} drugs x {summary['mirnas']} miRNAs, "
                   f"{summary['associations']} associations ({summary['source']}), seed {summary['seed']}", err=True)
        changed = version_differences(model)
        if changed:
            typer.echo("note: trained with other library versions: " + ", ".join(changed)
                       + "; known pairs keep their stored scores, features of new drugs/miRNAs may differ slightly",
                       err=True)
    else:
        model = _train(data, mirbase, config, seed, drug_features, calibrate)
        if save is not None:
            from ammgc.models.modelfile import save_model

            save_model(save, model)
            typer.echo(f"wrote {save}", err=True)
    extended = model.extend(drugs_new, mirnas_new, mirbase=mirbase)
    for note in extended.notes:
        typer.echo(f"note: {note}", err=True)
    # the training dataset's views, for evidence (asked for: an error without them) and for new entities'
    # nearest neighbours (a note without them); built once, as it computes the SMILES views
    explainer = _explainer(model, data, mirbase, extended) if evidence else None
    notes = [f"note: {note}" for note in extended.notes]
    if drugs_new or mirnas_new:
        explainer, lines = _new_entity_report(model, extended, explainer, data, mirbase)
        notes += lines
    table = rank(extended.dataset, extended.scores, drugs=drug or [], mirnas=mirna or [],
                 new_drugs=extended.new_drugs, new_mirnas=extended.new_mirnas, top=limit)
    if model.calibration is not None:
        from ammgc.evaluation.calibration import annotate

        table = annotate(table, extended.scores[extended.dataset.associations == 0], model.calibration)
    else:
        typer.echo("note: this model has no calibration (trained with --no-calibrate or by an older ammgc): "
                   "only the score is given", err=True)
    if evidence:
        from ammgc.prediction.explain import evidence_column

        table["evidence"] = evidence_column(explainer, table)
    if out is not None:
        write_text_output(out, table.to_csv(index=False))
    shown = table.head(SHOWN_ROWS)
    if not to_stdout:  # with --out -, the CSV on standard output is the table
        typer.echo(shown.to_string(index=False, formatters={"score": "{:.4f}".format, "percentile": "{:.3f}".format,
                                                            "probability": "{:.4f}".format,
                                                            "expected_precision": "{:.4f}".format}))
    typer.echo("score: the model's logit, a ranking key (higher = more likely), not a probability", err=True)
    if len(table) > len(shown) and not to_stdout:
        typer.echo(f"... {len(table) - len(shown)} more rows" + ("" if out else " (write them all with --out)"))
    if out is not None:
        typer.echo(f"wrote {len(table)} rows to {'standard output' if to_stdout else out}", err=to_stdout)
    if html is not None:
        _write_page(html, table, model, extended, notes, source=str(model_file or data or "the benchmark"))
        typer.echo(f"wrote {len(table)} rows to {html}")


def _write_page(path: Path, table: Any, model: Any, extended: Any, notes: list[str], *, source: str) -> None:
    from ammgc.io import atomic_open
    from ammgc.models.modelfile import describe
    from ammgc.reporting.page import ranking_page

    summary = describe(model)
    lines = [f"AMMGC trained on {summary['associations']} associations of {summary['drugs']} drugs x "
             f"{summary['mirnas']} miRNAs ({summary['source']}), seed {summary['seed']}; model: {source}"]
    png = None
    if model.calibration is not None:
        from ammgc.reporting.figures import reliability_png

        c = model.calibration
        lines.append(f"probabilities calibrated ({c.method}) on {c.folds} {c.protocol}-split held-out folds; "
                     f"held-out Brier {c.measured[c.method]['brier']:.5f}, ECE {c.measured[c.method]['ece']:.5f}")
        png = reliability_png(c)
    else:
        lines.append("no calibration: only the score (a ranking key) is given")
    page = ranking_page(table, title=f"ammgc predictions: {len(table)} pairs", summary=lines, notes=notes,
                        new_drugs=extended.new_drugs, new_mirnas=extended.new_mirnas, reliability_png=png)
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
