"""`ammgc experiment ...`: the paper's other studies; `ammgc evaluate-ranking`: external validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ammgc.cli.common import (
    App,
    DataOption,
    DeviceOption,
    FoldExecution,
    MethodOption,
    MirbaseOption,
    SeedOption,
    build_method,
    load_data,
    method_config,
    running,
)

if TYPE_CHECKING:
    from ammgc.evaluation.splits import PairSplit

app = App(no_args_is_help=True, help="The paper's other studies: ablation, sensitivity, attention, case study.")

OptionOption = Annotated[list[str] | None, typer.Option(
    "--option", "-o", help="Base AMMGC option as KEY=VALUE (JSON value), e.g. -o epochs_gcn=100.")]
FoldsOption = Annotated[int, typer.Option("--folds", min=2, help="Folds per repeat.")]
RepeatsOption = Annotated[int, typer.Option("--repeats", min=1, help="CV repeats (the paper: 10).")]
ModelsOption = Annotated[int, typer.Option("--models", min=1, help="Models trained (seeds SEED..SEED+N-1).")]


@dataclass(frozen=True)
class PaperCV:
    """The paper's cross-validation over random pairs (--folds, --repeats, --seed): an option group
    (``option_groups``)."""

    folds: FoldsOption = 5
    repeats: RepeatsOption = 10
    seed: SeedOption = 0

    @property
    def splitter(self) -> PairSplit:
        from ammgc.evaluation.splits import PairSplit

        return PairSplit(self.folds, self.repeats, self.seed)


@dataclass(frozen=True)
class Ensemble:
    """The models a command trains on every association (--seed, --models, --device): an option group
    (``option_groups``)."""

    seed: SeedOption = 0
    models: ModelsOption = 1
    device: DeviceOption = "cpu"


@app.command("ablation")
def ablation(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    cv: PaperCV,
    execution: FoldExecution,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="Run only these variants (repeatable): full, no_attention, no_biological, "
                          "no_multimodal, modal1..modal4.")] = None,
    device: DeviceOption = "cpu",
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable per variant).")
                   ] = Path("runs/ablation"),
    option: OptionOption = None,
) -> None:
    """The paper's Table 2: eight AMMGC variants and popularity under the same CV; writes OUT/table2.md/.csv."""
    from ammgc.experiments.ablation import VARIANTS, run_ablation
    from ammgc.reporting.tables import metrics_line

    base = build_method("ammgc", method_config(option, device))
    with running(out=out, mirbase=mirbase, folds=execution):
        bodies = run_ablation(base, load_data(data), cv.splitter, variants=variant,
                              jobs=execution.workers, out=out, progress=True)
    labels = {v.key: v.label for v in VARIANTS} | {"popularity": "popularity"}
    for key, body in bodies.items():
        typer.echo(f"{labels[key]}: {metrics_line(body['mean'], body['std'], ('aupr', 'auc'))}")
    typer.echo(f"wrote {out / 'table2.md'}, {out / 'table2.csv'}, {out / 'curves.png'}")


@app.command("sensitivity")
def sensitivity(
    *,
    param: Annotated[str, typer.Option("--param", help="layers (GCN depth), width (second-layer width) or p_neg.")],
    values: Annotated[list[str] | None, typer.Option(
        "--values", help="Values to try, comma-separated or repeated (default: the paper's).")] = None,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    cv: PaperCV,
    execution: FoldExecution,
    device: DeviceOption = "cpu",
    out: Annotated[Path | None, typer.Option("--out", help="Output directory (default runs/sensitivity/PARAM).")
                   ] = None,
    option: OptionOption = None,
) -> None:
    """Figure 3 / Table 3: AMMGC with one parameter varied; writes sensitivity.md/.csv and figure3.png."""
    from ammgc.experiments.sensitivity import parse_values, run_sensitivity
    from ammgc.reporting.tables import metrics_line

    parsed = parse_values(param, values)
    out = out or Path("runs/sensitivity") / param
    base = build_method("ammgc", method_config(option, device))
    with running(out=out, mirbase=mirbase, folds=execution):
        rows = run_sensitivity(base, load_data(data), cv.splitter, param=param, values=parsed,
                               jobs=execution.workers, out=out, progress=True)
    for r in rows:
        if r["source"] == "ours":
            spread = {m: r[f"{m}_std"] for m in ("aupr", "auc")}
            typer.echo(f"{r['label']}: {metrics_line(r, spread, ('aupr', 'auc'))}")
    typer.echo(f"wrote {out / 'sensitivity.md'}, {out / 'sensitivity.csv'}, {out / 'figure3.png'}")


@app.command("attention")
def attention(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    ensemble: Ensemble,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("runs/attention"),
    option: OptionOption = None,
) -> None:
    """Figure 2: train on every association and draw the attention coefficients per modal."""
    from ammgc.experiments.attention import run_attention

    model = build_method("ammgc", method_config(option, ensemble.device))
    with running(mirbase=mirbase):
        body = run_attention(model, load_data(data), seed=ensemble.seed, models=ensemble.models, out=out,
                             progress=True)
    for r in body["summary"]:
        typer.echo(f"{r['modal']} ({r['drug_views']} x {r['mirna_views']}): mean coefficient {r['mean']:.4f}")
    if body["claim"]:
        typer.echo(body["claim"])
    typer.echo(f"wrote {out / 'figure2.png'}, {out / 'attention.csv'}, {out / 'attention.md'}")


@app.command("casestudy")
def casestudy(
    *,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many of our top pairs to list.")] = 10,
    ensemble: Ensemble,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("runs/casestudy"),
    drug_features: Annotated[str | None, typer.Option(
        "--drug-features", help="files: the dataset's drug feature files (the paper's); smiles: drug views "
                                "computed from SMILES (what `ammgc predict` ranks with); default: the files "
                                "where the dataset has them.")] = None,
    option: OptionOption = None,
) -> None:
    """Table 4: train on every association; our top pairs beside the paper's top 10. Trained exactly as
    `ammgc train` trains (with --drug-features smiles, the ranking `ammgc predict` prints for the same seed)."""
    from ammgc.experiments.casestudy import run_casestudy
    from ammgc.reporting.tables import format_score

    config = method_config(option, ensemble.device)
    if drug_features is not None:
        config["drug_features"] = drug_features
    model = build_method("ammgc", config)
    with running(mirbase=mirbase):
        body = run_casestudy(model, load_data(data), seed=ensemble.seed, models=ensemble.models, top=top, out=out,
                             progress=True)
    for r in body["ours"]:
        mark = f"  (paper's #{r['paper_rank']})" if r["paper_rank"] is not None else ""
        typer.echo(f"{r['rank']:>4}  {r['drug']} – {r['mirna']}  {format_score(r['score'])}{mark}")
    typer.echo(f"{body['paper_pairs_in_our_top']} of the paper's top 10 are in our top {top}")
    typer.echo(f"wrote {out / 'table4.md'}, {out / 'top.csv'}, {out / 'paper_pairs.csv'}")


def evaluate_ranking(
    *,
    pairs: Annotated[Path, typer.Option("--pairs", help="CSV of (drug, mirna) pairs: names in columns drug/mirna "
                                                        "or 0-based indices in drug_index/mirna_index.")],
    predictions: Annotated[Path | None, typer.Option(
        "--predictions", help="Ranking written by `ammgc predict` (rank, drug_index, drug, mirna_index, mirna, "
                              "score); without it or --model a model is trained here.")] = None,
    model_file: Annotated[Path | None, typer.Option(
        "--model", help="A model file from `ammgc train`: its stored scores are evaluated.")] = None,
    data: DataOption = None,
    mirbase: MirbaseOption = None,
    method: MethodOption = "ammgc",
    ensemble: Ensemble,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("runs/evaluate-ranking"),
    option: OptionOption = None,
) -> None:
    """External validation: where given pairs fall in the ranking of unobserved pairs, beside popularity."""
    from ammgc.experiments.external import HITS_AT, run_evaluate_ranking

    if (predictions is not None or model_file is not None) and (option or method != "ammgc" or ensemble.models != 1):
        raise typer.BadParameter("training options (-o, --method, --models) do not apply to a ranking read "
                                 "from a file", param_hint="--predictions/--model")
    chosen = build_method(method, method_config(option, ensemble.device))
    with running(mirbase=mirbase):
        body = run_evaluate_ranking(pairs, load_data(data) if data is not None or model_file is None else None,
                                    predictions=predictions, model_file=model_file, method=chosen,
                                    seed=ensemble.seed, models=ensemble.models, out=out, progress=True)
    for label, m in body["results"].items():
        hits = ", ".join(f"hits@{k} {m[f'hits@{k}']}" for k in HITS_AT)
        typer.echo(f"{label}: AUC {m['auc']:.4f}, AP {m['ap']:.4f}, {hits}, median rank {m['median_rank']:.0f} "
                   f"of {m['unobserved_pairs']:,} ({m['pairs']} pairs)")
    typer.echo(f"wrote {out / 'evaluation.md'}, {out / 'pairs.csv'}, {out / 'per_drug.csv'}")
