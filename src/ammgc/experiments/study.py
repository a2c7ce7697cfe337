"""The whole study in one run (`ammgc study`): every table and figure of the paper, then the honest protocols.

Parts, each written by the command that makes it alone, into its own folder of ``out``:

* ``table1``: Table 1, every method under the paper's random-pair protocol (``ammgc compare``);
* ``table2``: Table 2, the ablation variants (``ammgc experiment ablation``);
* ``table3``: Table 3, negatives per positive 1, 5, 10 (``ammgc experiment sensitivity --param p_neg``);
* ``figure3``: Figure 3, depth 1-6 and width 16-512 (``... --param layers`` / ``--param width``);
* ``protocols``: Table 1 under the study and time splits (``ammgc compare --split study,time``).

The paper's experiments use the paper-faithful configuration (the ``ammgc-paper`` preset: 400 + 1,000
epochs, no prior), the honest protocols every method's default. Folds are shared through
``out/shared-folds`` (``ammgc.evaluation.store.shared_folds``): the paper's model is Table 1's
``ammgc-paper`` row, Table 2's full model, Table 3's 1:1, and Figure 3's depth 2 and width 256, and it is
trained once. Every part resumes fold by fold; ``out/index.md`` links them all.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.splits import DEFAULT_CUTOFFS, DEFAULT_REPEATS
from ammgc.io import atomic_write_text, ensure_writable_dir
from ammgc.models.ammgc import AMMGC
from ammgc.reporting.tables import index_markdown

log = logging.getLogger(__name__)

PARTS = ("table1", "table2", "table3", "figure3", "protocols")
#: The configuration of the paper's experiments.
PAPER_PRESET = "ammgc-paper"
#: Seconds per fold of one process on a 2-core machine running two, for the plan's estimate only: AMMGC costs
#: about this per epoch (GCN epochs of every modal, then attention epochs), every other method about a fixed
#: time. Set from the measured `ammgc study --repeats 1` (39 min on 2 cores; benchmarks/RESULTS.md).
AMMGC_SECONDS_PER_EPOCH = 0.017
AMMGC_SECONDS_PER_FOLD = 1.0
BASELINE_SECONDS_PER_FOLD = 3.5


@dataclass(frozen=True)
class Training:
    """One method object cross-validated in one part of the study."""

    part: str
    label: str
    method: Any
    split: str
    folds: int

    @property
    def key(self) -> str:
        """Equal keys train identically (what the shared folds make use of)."""
        return json.dumps([methods.registered_name(self.method), methods.params_of(self.method), self.split,
                           self.folds], sort_keys=True, default=str)

    def seconds(self) -> float:
        if not isinstance(self.method, AMMGC):
            return BASELINE_SECONDS_PER_FOLD * self.folds
        c = self.method.config
        return (AMMGC_SECONDS_PER_FOLD + AMMGC_SECONDS_PER_EPOCH * (c.epochs_gcn + c.epochs_attention)) * self.folds


def study_methods(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Table 1's methods as objects, every AMMGC one with ``overrides`` on top."""
    from ammgc.experiments.compare import ALL_METHODS

    built = {name: methods.get(name) for name in ALL_METHODS}
    return {name: methods.clone(m).set_params(**overrides) if isinstance(m, AMMGC) and overrides else m
            for name, m in built.items()}


def paper_model(overrides: dict[str, Any] | None = None) -> AMMGC:
    """The configuration of the paper's experiments (the ``ammgc-paper`` preset) with ``overrides``."""
    return methods.get(PAPER_PRESET, **(overrides or {}))


def plan_study(*, parts: Sequence[str] = PARTS, repeats: int = 10, n_folds: int = 5,
               overrides: dict[str, Any] | None = None) -> list[Training]:
    """Every configuration the study cross-validates, part by part (the same configuration may recur)."""
    from ammgc.experiments.ablation import VARIANTS, variant_of
    from ammgc.experiments.sensitivity import PARAMS, sensitivity_variant

    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise AmmgcError(f"unknown part(s) {unknown} of the study; choose from {', '.join(PARTS)}")
    paper = paper_model(overrides)
    compared = study_methods(overrides)
    for method in (paper, *compared.values()):
        method.check_params()
    pair_folds = n_folds * repeats
    plan: list[Training] = []

    def compare_rows(part: str, split: str, folds: int) -> None:
        plan.extend(Training(part, name, method, split, folds) for name, method in compared.items())

    for part in parts:
        if part == "table1":
            compare_rows(part, "pair", pair_folds)
        elif part == "table2":
            plan += [Training(part, v.label, variant_of(paper, v), "pair", pair_folds) for v in VARIANTS]
        elif part == "table3":
            plan += [Training(part, f"p_neg = {v:g}", sensitivity_variant(paper, "p_neg", v), "pair", pair_folds)
                     for v in PARAMS["p_neg"]]
        elif part == "figure3":
            plan += [Training(part, f"{param} = {v:g}", sensitivity_variant(paper, param, v), "pair", pair_folds)
                     for param in ("layers", "width") for v in PARAMS[param]]
        else:
            compare_rows(part, "study", n_folds * DEFAULT_REPEATS["study"])
            compare_rows(part, "time", len(DEFAULT_CUTOFFS))
    return plan


def plan_text(plan: list[Training], *, jobs: int) -> str:
    """What the study will train, how much is shared, and an estimate of the time it takes."""
    distinct: dict[str, Training] = {}
    for training in plan:
        distinct.setdefault(training.key, training)
    folds = sum(t.folds for t in plan)
    unique_folds = sum(t.folds for t in distinct.values())
    seconds = sum(t.seconds() for t in distinct.values()) / max(1, jobs)
    lines = [f"study plan: {len(plan)} cross-validations, {len(distinct)} distinct configurations; "
             f"{unique_folds} fold trainings ({folds - unique_folds} shared between parts)"]
    for part in dict.fromkeys(t.part for t in plan):
        mine = [t for t in plan if t.part == part]
        lines.append(f"  {part}: {len(mine)} configurations, {sum(t.folds for t in mine)} folds")
    lines.append(f"estimated time: about {seconds / 60:.0f} min on {jobs} process(es) (a rough model: "
                 f"{AMMGC_SECONDS_PER_EPOCH} s per AMMGC epoch, {BASELINE_SECONDS_PER_FOLD:g} s per baseline fold)")
    return "\n".join(lines)


def run_study(dataset: Dataset, *, parts: Sequence[str] = PARTS, repeats: int = 10, n_folds: int = 5,
              seed: int = 0, jobs: int = 1, overrides: dict[str, Any] | None = None,
              out: str | os.PathLike[str] = "runs/study", progress: bool = False) -> dict[str, Any]:
    """Run every part into ``out`` (see the module docstring); write ``out/index.md``. Returns
    {part: what the part's command returns}."""
    from ammgc.evaluation.splits import PairSplit, StudySplit, TimeSplit
    from ammgc.evaluation.store import shared_folds
    from ammgc.experiments.ablation import run_ablation
    from ammgc.experiments.compare import run_compare, run_protocols
    from ammgc.experiments.sensitivity import run_sensitivity

    plan = plan_study(parts=parts, repeats=repeats, n_folds=n_folds, overrides=overrides)  # checks before work
    out = ensure_writable_dir(out)
    paper = paper_model(overrides)
    compared = study_methods(overrides)
    pair = PairSplit(n_folds, repeats, seed)
    honest = [StudySplit(n_folds, DEFAULT_REPEATS["study"], seed), TimeSplit(DEFAULT_CUTOFFS, seed)]
    common = {"jobs": jobs, "progress": progress}
    # what the parts need that may not be at hand, checked before any of them trains: the publications of the
    # protocols part, the paper-faithful AMMGC's views of the table2, table3 and figure3 parts (each part still
    # prepares its own, so that its folds are those of the separate command)
    if "protocols" in parts:
        dataset = dataset.with_publications()
    if any(part in ("table2", "table3", "figure3") for part in parts):
        methods.prepare(paper, dataset)
    results: dict[str, Any] = {}
    with shared_folds(out / "shared-folds"):
        for part in parts:
            if progress:
                log.info("== %s", part)
            if part == "table1":
                results[part] = run_compare(compared, dataset, pair, out=out / part, skip_unavailable=True,
                                            **common)
            elif part == "table2":
                results[part] = run_ablation(paper, dataset, pair, out=out / part, **common)
            elif part == "table3":
                results[part] = run_sensitivity(paper, dataset, pair, param="p_neg", out=out / part, **common)
            elif part == "figure3":
                results[part] = {param: run_sensitivity(paper, dataset, pair, param=param, out=out / part / param,
                                                         **common)
                                 for param in ("layers", "width")}
            else:
                results[part] = run_protocols(compared, dataset, honest, out=out / part, skip_unavailable=True,
                                              **common)
    atomic_write_text(out / "index.md", index_markdown(parts, plan_text(plan, jobs=jobs), repeats=repeats,
                                                       n_folds=n_folds, seed=seed, source=str(dataset.source)))
    return results


def study_parts(spec: str) -> list[str]:
    """``all`` or comma-separated part names."""
    items = [p.strip() for p in spec.split(",") if p.strip()]
    parts = list(PARTS) if items == ["all"] else items
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise AmmgcError(f"parts: unknown {unknown or spec!r}; choose all or from {', '.join(PARTS)}")
    return list(dict.fromkeys(parts))
