"""The paper's Table 1: every comparison method cross-validated on identical folds, ours beside the paper's.

Each method runs through :func:`ammgc.evaluation.runner.cross_validate` with the same ``n_folds``,
``repeats`` and ``seed``, so every method sees exactly the same splits (a split plan depends on those
and on the association matrix only). Each method's folds and metrics.json / report.md / curves.png
go to ``OUT/<method>/`` as with ``ammgc cv``, so an interrupted comparison resumes per method and fold.
``OUT/table1.md``, ``table1.csv`` and ``table1.png`` put the methods side by side.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ammgc.data import load_dataset
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.report import PAPER_TABLE1, PAPER_TABLE1_STD, TABLE_METRICS, views_note, write_cv_outputs
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import make_folds
from ammgc.io import atomic_open, atomic_write_text, ensure_writable_dir
from ammgc.methods import REGISTRY, make_method

#: ``--methods all``, in the paper's Table 1 order after the popularity reference.
ALL_METHODS = ("popularity", "cf", "lp", "gf", "sdne", "gcmdr", "ammgc")

def select_methods(spec: str | Sequence[str]) -> list[str]:
    """``all`` or comma-separated registered names -> the distinct names, in the order given."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        for name in ALL_METHODS if item == "all" else (item,):
            if name not in REGISTRY:
                raise AmmgcError(f"unknown method {name!r} in --methods; choose from all, {', '.join(REGISTRY)}")
            if name not in names:
                names.append(name)
    if not names:
        raise AmmgcError("--methods names no method; give `all` or e.g. cf,lp,gcmdr")
    return names


def fold_plan_digest(associations: np.ndarray, *, n_folds: int, repeats: int, seed: int) -> str:
    """A short hash of every fold's held-out positives: equal digests mean identical splits."""
    digest = hashlib.sha1()
    for r in range(repeats):
        for fold in make_folds(associations, n_folds=n_folds, repeat=r, seed=seed):
            digest.update(np.ascontiguousarray(fold.held_out, dtype=np.int64).tobytes())
    return digest.hexdigest()[:12]


def run_compare(*, data: str | os.PathLike[str] | Dataset | None = None,
                mirbase: str | os.PathLike[str] | None = None, methods: str | Sequence[str] = "all",
                configs: Mapping[str, dict[str, Any]] | None = None, n_folds: int = 5, repeats: int = 10,
                seed: int = 0, jobs: int = 1, out: str | os.PathLike[str] = "runs/compare",
                progress: bool = True) -> dict[str, dict[str, Any]]:
    """Cross-validate each method on the same folds; write OUT/<method>/metrics.json (and report.md,
    curves.png), OUT/table1.md, OUT/table1.csv and OUT/table1.png. Returns {method: metrics.json payload}."""
    from ammgc.experiments.cv import prepare_dataset

    out = ensure_writable_dir(out)
    names = select_methods(methods)
    configs = dict(configs or {})
    stray = sorted(set(configs) - set(names))
    if stray:
        raise AmmgcError(f"options given for method(s) {stray} that are not being compared ({', '.join(names)})")
    for name in names:
        make_method(name, **configs.get(name, {}))  # a bad option fails now, not after hours of other methods
    base = data if isinstance(data, Dataset) else load_dataset(data)
    bodies: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names, start=1):
        if progress:
            tqdm.write(f"[{k}/{len(names)}] {name}", file=sys.stderr)
        config = dict(configs.get(name, {}))
        # each method gets the base views plus only its own, so its resumable run does not depend on
        # which other methods are compared alongside it
        dataset, views = prepare_dataset(base, name, config, mirbase)
        start = time.perf_counter()
        result = cross_validate(dataset, name, config, n_folds=n_folds, repeats=repeats, seed=seed, jobs=jobs,
                                out=out / name, progress=progress)
        wall = time.perf_counter() - start
        bodies[name] = write_cv_outputs(result, out / name, views=views, dataset_source=base.source,
                                        extra={"wall_seconds_this_run": wall})
    digest = fold_plan_digest(base.associations, n_folds=n_folds, repeats=repeats, seed=seed)
    rows = table_rows(bodies)
    atomic_write_text(out / "table1.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "table1.md", table_markdown(rows, bodies, n_folds=n_folds, repeats=repeats, seed=seed,
                                                        digest=digest, source=base.source))
    plot_table(rows, out / "table1.png")
    return bodies


def table_rows(bodies: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: our mean and std per metric, the paper's beside them, time per fold, best marks."""
    best = {m: max(bodies[n]["mean"][m] for n in bodies) for m in TABLE_METRICS}
    rows = []
    for name, body in bodies.items():
        mean, std = body["mean"], body["std"]
        paper, paper_std = PAPER_TABLE1.get(name, {}), PAPER_TABLE1_STD.get(name, {})
        row: dict[str, Any] = {"method": name}
        for m in TABLE_METRICS:
            row[m] = mean[m]
            row[f"{m}_std"] = std[m]
            row[f"{m}_paper"] = paper.get(m)
            row[f"{m}_paper_std"] = paper_std.get(m)
        row["ap"] = mean["ap"]
        row["seconds_per_fold"] = mean["seconds"]
        row["seconds_per_fold_std"] = std["seconds"]
        row["folds"] = len(body["folds"])
        row["best"] = ";".join(m for m in TABLE_METRICS if mean[m] == best[m])
        rows.append(row)
    return rows


def _cell(mean: float | None, std: float | None, bold: bool) -> str:
    if mean is None:
        return "–"
    text = f"{mean:.4f} ± {std:.4f}" if std is not None else f"{mean:.4f}"
    return f"**{text}**" if bold else text


def table_markdown(rows: list[dict[str, Any]], bodies: Mapping[str, dict[str, Any]], *, n_folds: int,
                   repeats: int, seed: int, digest: str, source: str) -> str:
    paper_best = {m: max((r[f"{m}_paper"] for r in rows if r[f"{m}_paper"] is not None), default=None)
                  for m in TABLE_METRICS}
    header = "| method | " + " | ".join(f"{m.upper()} ours | {m.upper()} paper" for m in TABLE_METRICS) + " |"
    lines = ["# Comparison with the paper's Table 1", "", header, "|---|" + "---|---|" * len(TABLE_METRICS)]
    for r in rows:
        best = set(r["best"].split(";"))
        cells = []
        for m in TABLE_METRICS:
            cells.append(_cell(r[m], r[f"{m}_std"], m in best))
            paper = r[f"{m}_paper"]
            cells.append(_cell(paper, r[f"{m}_paper_std"], paper is not None and paper == paper_best[m]))
        lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
    lines += ["", "Bold: best in the column (ours and the paper's marked separately).",
              f"Ours: {repeats} repeat(s) x {n_folds}-fold CV (seed {seed}) on {source}, mean ± std over folds; "
              "the paper: 10 x 5-fold CV. Test set = held-out positives + every unobserved pair; "
              "F1/ACC/REC at the max-F1 threshold.",
              f"Every method ran on the same folds (split plan digest {digest}).", "",
              "## Time per fold", "", "| method | seconds per fold | folds | wall time of this run (s) |",
              "|---|---|---|---|"]
    for r in rows:
        wall = bodies[r["method"]].get("wall_seconds_this_run")
        lines.append(f"| {r['method']} | {r['seconds_per_fold']:.2f} ± {r['seconds_per_fold_std']:.2f} | "
                     f"{r['folds']} | {wall:.1f} |")
    lines += ["", "Seconds per fold: training, scoring and metrics of one fold (one process, one torch thread); "
              "folds resumed from an earlier run keep their own time.", "", "## Views", ""]
    lines += [f"- {name}: {views_note(body.get('views'))}" for name, body in bodies.items()]
    return "\n".join(lines) + "\n"


def plot_table(rows: list[dict[str, Any]], path: Path) -> None:
    """Grouped bars of AUPR and AUC per method, ours and the paper's, with standard deviations as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["method"] for r in rows]
    x = np.arange(len(names))
    width = 0.38
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 1.5 * len(names) + 2), 4.2))
    for ax, metric in zip(axes, ("aupr", "auc"), strict=True):
        ours = [r[metric] for r in rows]
        ax.bar(x - width / 2, ours, width, yerr=[r[f"{metric}_std"] for r in rows], capsize=3, label="ours")
        paper = [r[f"{metric}_paper"] if r[f"{metric}_paper"] is not None else np.nan for r in rows]
        paper_err = [r[f"{metric}_paper_std"] if r[f"{metric}_paper_std"] is not None else 0.0 for r in rows]
        ax.bar(x + width / 2, paper, width, yerr=paper_err, capsize=3, label="paper", alpha=0.75)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_title(metric.upper())
        if metric == "auc":
            # AUCs differ in the second decimal: a zero baseline would hide the differences
            low = np.nanmin([*ours, *paper])
            ax.set_ylim(max(0.0, low - 0.05), 1.0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=2, fontsize=9)
    fig.suptitle("Comparison methods (mean ± std over folds)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)
