"""`ammgc train` and `ammgc predict`: train once on every known association, rank pairs for known and new
drugs and miRNAs."""

from __future__ import annotations

from dataclasses import dataclass
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
    build_method,
    load_data,
    method_config,
    running,
)
from ammgc.errors import AmmgcError

DrugFeaturesOption = Annotated[str | None, typer.Option(
    "--drug-features", help="smiles: drug views computed from SMILES, as new drugs get them (the default of a "
                            "model trained for prediction); files: the dataset's drug feature files (the "
                            "paper's setting); auto: the files where the dataset has them.")]
CalibrateOption = Annotated[bool, typer.Option(
    "--calibrate/--no-calibrate", help="Evaluate the configuration out of fold on the study-grouped split first "
                                       "(5 more trainings), so predictions get a probability and an expected "
                                       "precision.")]
ConfigOption = Annotated[list[str] | None, typer.Option(
    "--option", "-o", help="Any AMMGC option as KEY=VALUE (JSON value), e.g. -o hidden=[128,256].")]
SHOWN_ROWS = 20


@dataclass(frozen=True)
class Training:
    """How `ammgc train` trains, and `ammgc predict` without --model: an option group (``option_groups``)."""

    seed: SeedOption = 0
    drug_features: DrugFeaturesOption = None
    epochs_gcn: EpochsGcnOption = None
    epochs_attention: EpochsAttentionOption = None
    p_neg: PNegOption = None
    device: DeviceOption = "cpu"
    calibrate: CalibrateOption = True

    def config(self, option: list[str] | None) -> dict[str, Any]:
        """The AMMGC options the command line gives (-o, the epoch and p_neg shortcuts, the device)."""
        return method_config(option, self.device, epochs_gcn=self.epochs_gcn, epochs_attention=self.epochs_attention,
                             p_neg=self.p_neg)


def _train(data: Path | None, config: dict[str, Any], training: Training) -> Any:
    """Train the prediction model on --data, saying what it does."""
    from ammgc.prediction.training import PREDICTION_DEFAULTS, train

    dataset = load_data(data)
    if training.drug_features is not None:
        config = {**config, "drug_features": training.drug_features}
    model = build_method("ammgc", {**PREDICTION_DEFAULTS, **config})
    typer.echo(f"training AMMGC on {dataset.n_associations} associations of {dataset.n_drugs} drugs x "
               f"{dataset.n_mirnas} miRNAs ({dataset.source}), seed {training.seed} ...", err=True)
    model = train(dataset, model, seed=training.seed, calibrate=training.calibrate, progress=training.calibrate)
    typer.echo(f"trained in {model.info_['seconds']:.1f} s; modals: "
               + "; ".join(f"{'+'.join(m.drug_views)} x {'+'.join(m.mirna_views)}" for m in model.modals_), err=True)
    return model


def train(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    out: Annotated[Path, typer.Option("--out", help="Model file to write.")] = Path("model.ammgc"),
    training: Training,
    option: ConfigOption = None,
) -> None:
    """Train AMMGC on every known association and save it as one model file for `ammgc predict --model`;
    with calibration (the default) also OUT.reliability.png, the reliability diagram."""
    from ammgc.io import check_output_file

    check_output_file(out, option="--out", inputs=[data, mirbase])
    check_output_file(reliability_path(out), option="--out (its reliability diagram)", inputs=[data, mirbase])
    from ammgc.prediction.predict import model_card

    with running(mirbase=mirbase):
        model = _train(data, training.config(option), training)
        for line in model_card(model).report():
            typer.echo(line, err=True)
        size = model.save(out)
    typer.echo(f"wrote {out} ({size / 1e6:.1f} MB)")
    if model.calibration_ is not None:
        from ammgc.reporting.figures import plot_reliability

        figure = reliability_path(out)
        plot_reliability(model.calibration_, figure)
        typer.echo(f"wrote {figure}")


NewDrugOption = Annotated[list[str] | None, typer.Option(
    "--new-drug", help="Name of a drug not in the model; give its --smiles (repeatable, in order).")]
SmilesOption = Annotated[list[str] | None, typer.Option("--smiles", help="SMILES of each --new-drug.")]
NewMirnaOption = Annotated[list[str] | None, typer.Option(
    "--new-mirna", help="Name of a miRNA not in the model; give its --sequence (repeatable).")]
SequenceOption = Annotated[list[str] | None, typer.Option(
    "--sequence", help="Sequence of each --new-mirna: stem-loop (preferred) or mature, A/C/G/U/T.")]


def _paired(names: list[str] | None, values: list[str] | None, name_option: str,
            value_option: str) -> list[tuple[str, str]]:
    """Repeated NAME options with their value options (``--new-drug`` with ``--smiles``), in the order given."""
    names, values = names or [], values or []
    if len(names) != len(values):
        raise AmmgcError(f"{len(names)} {name_option} but {len(values)} {value_option}: give one "
                         f"{value_option} for each {name_option}, in the same order")
    return list(zip(names, values, strict=True))


def _new_entities(new_drug: list[str] | None, smiles: list[str] | None, new_mirna: list[str] | None,
                  sequence: list[str] | None, drugs_file: Path | None = None,
                  mirnas_file: Path | None = None) -> tuple[list[Any], list[Any]]:
    """The new drugs and miRNAs the options and files give, each SMILES and sequence checked."""
    from ammgc.prediction.new_entities import new_drugs, new_mirnas

    return (new_drugs(_paired(new_drug, smiles, "--new-drug", "--smiles"), drugs_file),
            new_mirnas(_paired(new_mirna, sequence, "--new-mirna", "--sequence"), mirnas_file))


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

    from ammgc.models.ammgc import AMMGC
    from ammgc.prediction.explain import explanation_text
    from ammgc.prediction.new_entities import extend
    from ammgc.prediction.predict import explainer_for, model_card, new_entity_report
    from ammgc.prediction.ranking import resolve_names

    drugs_new, mirnas_new = _new_entities(new_drug, smiles, new_mirna, sequence)
    drug = drug if drug is not None else _only_new([d.name for d in drugs_new], "drug", "--drug")
    mirna = mirna if mirna is not None else _only_new([m.name for m in mirnas_new], "miRNA", "--mirna")
    with running(mirbase=mirbase):
        model = AMMGC.load(model_file)
        for line in model_card(model).report(model_file):
            typer.echo(line, err=True)
        dataset = load_data(data) if data is not None else None  # the training dataset, checked against the model
        extended = extend(model, drugs_new, mirnas_new) if drugs_new or mirnas_new else None
        explainer = explainer_for(model, dataset, extended)
        if extended is not None:
            for line in [*extended.notes, *new_entity_report(model, extended, explainer)[1]]:
                typer.echo(line if line.startswith(("warning:", "caution:")) else f"note: {line}", err=True)
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


def _check_standard_output(out: Path | None, html: Path | None, save: Path | None) -> None:
    """Only --out writes to standard output (``-``), and not through a path that names it."""
    from ammgc.io import is_stdout

    for option_name, path in (("--html", html), ("--save-model", save)):
        if path is not None and is_stdout(path):
            raise AmmgcError(f"{option_name} -: only --out writes to standard output (the CSV); give a file name")
    if out is not None and str(out) in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        raise AmmgcError(f"--out {out} is not a file to replace; for standard output give --out -")


#: how the terminal shows the ranking's number columns
NUMBER_FORMATS = {"score": "{:.4f}".format, "percentile": "{:.3f}".format, "probability": "{:.4f}".format,
                  "probability_low": "{:.4f}".format, "probability_high": "{:.4f}".format,
                  "expected_precision": "{:.4f}".format}


def _show(table: Any, *, written: bool) -> None:
    """The ranking's first rows on the terminal, and how many more there are."""
    shown = table.head(SHOWN_ROWS)
    typer.echo(shown.to_string(index=False, formatters=NUMBER_FORMATS))
    if len(table) > len(shown):
        typer.echo(f"... {len(table) - len(shown)} more rows" + ("" if written else " (write them all with --out)"))


def predict(
    *,
    model_file: Annotated[Path | None, typer.Option(
        "--model", help="A model file from `ammgc train` (otherwise a model is trained here).")] = None,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    top: Annotated[str, typer.Option(
        "--top", help="How many pairs to rank: a number or 'all' (with new drugs or miRNAs: for each of them, "
                      "each ranked on its own).")] = "20",
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
    training: Training,
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
    lower, 0-100, among the model's own candidate pairs), probability (the chance that a pair at this rank
    was a held-out positive when the configuration was evaluated out of fold; never above
    expected_precision), probability_low and probability_high (its 95% interval from the held-out counts)
    and expected_precision (the share of held-out positives at this rank or better in that evaluation);
    with --evidence, evidence (the 3 known associations most similar to the pair, with view, similarity
    and the PubMed ids of the known association).
    """
    from ammgc.io import check_output_files, is_stdout
    from ammgc.models.ammgc import AMMGC
    from ammgc.prediction.predict import model_card, sidecar_path, write_table
    from ammgc.prediction.predict import predict as rank_pairs

    limit = _parse_top(top)
    to_stdout = is_stdout(out)  # then standard output carries the CSV alone
    _check_standard_output(out, html, save)
    outputs = {"--out": out, "--out (its sidecar JSON)": None if out is None else sidecar_path(out), "--html": html,
               "--save-model": save}
    outputs = {name: path for name, path in outputs.items() if path is not None and not is_stdout(path)}
    inputs = [data, mirbase, new_drugs_file, new_mirnas_file]
    drugs_new, mirnas_new = _new_entities(new_drug, smiles, new_mirna, sequence, new_drugs_file, new_mirnas_file)
    config = training.config(option)
    with running(mirbase=mirbase):
        if model_file is None:
            check_output_files(outputs, inputs)
            model, dataset = _train(data, config, training), None
            if save is not None:
                model.save(save)
        else:
            if config or training.drug_features is not None or save is not None or not training.calibrate:
                raise AmmgcError("training options (--epochs-*, --p-neg, --device, -o, --drug-features, "
                                 "--save-model, --no-calibrate) do not apply to a saved model (--model); retrain "
                                 "with `ammgc train` to change them")
            # the model file is read first: a damaged one is named before any problem of the outputs
            model = AMMGC.load(model_file)
            check_output_files(outputs, [model_file, *inputs])
            dataset = load_data(data) if data is not None else None  # the training dataset, checked against it
        card = model_card(model)
        for line in card.report(model_file):
            typer.echo(line, err=True)
        if save is not None:
            typer.echo(f"wrote {save}", err=True)
        prediction = rank_pairs(model, drugs=drug or [], mirnas=mirna or [], new_drugs=drugs_new,
                                new_mirnas=mirnas_new, top=limit, evidence=evidence, dataset=dataset)
    for line in prediction.notes:
        typer.echo(line if line.startswith(("warning:", "caution:")) else f"note: {line}", err=True)
    table = prediction.table
    if out is not None:
        write_table(prediction, card, out)
    if not to_stdout:  # with --out -, the CSV on standard output is the table
        _show(table, written=out is not None)
    typer.echo("score: the model's logit, a ranking key (higher = more likely), not a probability", err=True)
    if out is not None:
        typer.echo(f"wrote {len(table)} rows to {'standard output' if to_stdout else out}", err=to_stdout)
    if html is not None:
        from ammgc.reporting.page import write_page

        write_page(html, prediction, card)
        typer.echo(f"wrote {len(table)} rows to {html}")
