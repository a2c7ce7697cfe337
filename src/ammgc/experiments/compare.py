"""The paper's Table 1 under any protocol: every comparison method cross-validated on identical folds.

Each method runs through :func:`ammgc.evaluation.runner.cross_validate` with the same split, ``n_folds``,
``repeats`` and ``seed``, so every method sees exactly the same folds (a split plan depends on those, on
the association matrix and, for the study and time splits, on the publications only). Each method's
folds and metrics.json / report.md / curves.png go to ``OUT/<method>/`` as with ``ammgc cv``, so an
interrupted comparison resumes per method and fold. ``OUT/table1.md``, ``table1.csv`` and ``table1.png``
put the methods side by side (beside the paper's numbers under the paper's pair protocol).

With several protocols (``splits``), each goes to ``OUT/<split>/`` and ``OUT/protocols.md`` / ``.csv``
show every method under every protocol, with how much each one's score drops from random pairs.
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
from ammgc.data.benchmark import DATASET_NAME
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.report import (
    TABLE_METRICS,
    USER_METRIC_LABELS,
    USER_METRICS,
    views_note,
    write_cv_outputs,
)
from ammgc.evaluation.runner import cross_validate, plan_folds
from ammgc.evaluation.splits import DEFAULT_CUTOFFS, SplitKind
from ammgc.io import atomic_open, atomic_write_text, ensure_writable_dir
from ammgc.methods import PRESETS, REGISTRY, make_method, resolve_method
from ammgc.paper import TABLE1

#: ``--methods all``: the paper's Table 1 order after the two popularity references (by degree and by
#: publications), with the miRNA-side CF, AMMGC's 0.1 default and the paper-faithful AMMGC (presets)
#: beside the defaults.
ALL_METHODS = ("popularity", "popularity-studies", "cf", "cf-mirna", "lp", "gf", "sdne", "gcmdr", "ammgc",
               "ammgc-pairs", "ammgc-paper")

def select_methods(spec: str | Sequence[str]) -> list[str]:
    """``all`` or comma-separated registered names -> the distinct names, in the order given."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        for name in ALL_METHODS if item == "all" else (item,):
            if name not in REGISTRY and name not in PRESETS:
                raise AmmgcError(f"unknown method {name!r} in --methods; choose from all, "
                                 f"{', '.join([*REGISTRY, *PRESETS])}")
            if name not in names:
                names.append(name)
    if not names:
        raise AmmgcError("--methods names no method; give `all` or e.g. cf,lp,gcmdr")
    return names


def fold_plan_digest(dataset: Dataset, *, n_folds: int, repeats: int, seed: int, split: SplitKind = "pair",
                     cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> str:
    """A short hash of every fold's held-out positives: equal digests mean identical splits."""
    digest = hashlib.sha1()
    for fold in plan_folds(dataset, split=split, n_folds=n_folds, repeats=repeats, seed=seed, cutoffs=cutoffs):
        digest.update(np.ascontiguousarray(fold.held_out, dtype=np.int64).tobytes())
    return digest.hexdigest()[:12]


def run_compare(*, data: str | os.PathLike[str] | Dataset | None = None,
                mirbase: str | os.PathLike[str] | None = None, methods: str | Sequence[str] = "all",
                configs: Mapping[str, dict[str, Any]] | None = None, n_folds: int = 5, repeats: int = 10,
                seed: int = 0, split: SplitKind = "pair", cutoffs: Sequence[float] = DEFAULT_CUTOFFS, jobs: int = 1,
                out: str | os.PathLike[str] = "runs/compare", progress: bool = True) -> dict[str, dict[str, Any]]:
    """Cross-validate each method on the same folds; write OUT/<method>/metrics.json (and report.md,
    curves.png), OUT/table1.md, OUT/table1.csv and OUT/table1.png. Returns {method: metrics.json payload}."""
    from ammgc.experiments.cv import load_for_split, prepare_dataset

    out = ensure_writable_dir(out)
    names = select_methods(methods)
    configs = dict(configs or {})
    stray = sorted(set(configs) - set(names))
    if stray:
        raise AmmgcError(f"options given for method(s) {stray} that are not being compared ({', '.join(names)})")
    resolved = {name: resolve_method(name) for name in names}
    models = {name: make_method(method, **{**preset, **configs.get(name, {})})  # a bad option fails now
              for name, (method, preset) in resolved.items()}
    base = load_for_split(data, split)
    if base.publications is None and base.name != DATASET_NAME:
        # `all` on own data without publications: the methods that need them are left out, with a note
        asked = {n.strip().lower() for n in (methods.split(",") if isinstance(methods, str) else methods)}
        dropped = [n for n in names if models[n].publications_use() == "required" and n not in asked]
        if dropped and progress:
            tqdm.write(f"left out {', '.join(dropped)}: this dataset has no publication column", file=sys.stderr)
        names = [n for n in names if n not in dropped]
    digest = fold_plan_digest(base, n_folds=n_folds, repeats=repeats, seed=seed, split=split, cutoffs=cutoffs)
    bodies: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names, start=1):
        if progress:
            tqdm.write(f"[{k}/{len(names)}] {name} ({split} split)", file=sys.stderr)
        method, preset = resolved[name]
        config = {**preset, **configs.get(name, {})}
        # each method gets the base views plus only its own, so its resumable run does not depend on
        # which other methods are compared alongside it
        dataset, views = prepare_dataset(base, method, config, mirbase)
        start = time.perf_counter()
        result = cross_validate(dataset, method, config, n_folds=n_folds, repeats=repeats, seed=seed, split=split,
                                cutoffs=cutoffs, jobs=jobs, out=out / name, progress=progress)
        wall = time.perf_counter() - start
        bodies[name] = write_cv_outputs(result, out / name, views=views, dataset_source=base.source,
                                        dataset_name=base.name, extra={"wall_seconds_this_run": wall, "label": name})
    rows = table_rows(bodies)
    atomic_write_text(out / "table1.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "table1.md", table_markdown(rows, bodies, n_folds=n_folds, repeats=repeats, seed=seed,
                                                        digest=digest, source=base.source, split=split))
    plot_table(rows, out / "table1.png")
    return bodies


def run_protocols(*, splits: Sequence[str], data: str | os.PathLike[str] | Dataset | None = None,
                  out: str | os.PathLike[str] = "runs/compare", repeats: Mapping[str, int] | None = None,
                  **kwargs: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``run_compare`` under each protocol into OUT/<split>/, then OUT/protocols.md and protocols.csv."""
    out = ensure_writable_dir(out)
    base = data if isinstance(data, Dataset) else load_dataset(data)
    results = {}
    for split in splits:
        results[split] = run_compare(data=base, split=split, out=out / split,  # type: ignore[arg-type]
                                     repeats=(repeats or {}).get(split, 10), **kwargs)
    rows = protocol_rows(results)
    atomic_write_text(out / "protocols.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "protocols.md", protocols_markdown(rows, results))
    return results


def paired_difference(body: dict[str, Any], other: dict[str, Any], metric: str) -> tuple[float, float]:
    """Mean and standard error of ``body - other`` on the same folds: per repeat where there are several
    repeats (the folds of one repeat share training data), else per fold (the time split's cut-offs)."""
    theirs = {(f["repeat"], f["fold"]): f[metric] for f in other["folds"]}
    diffs: dict[int, list[float]] = {}
    for f in body["folds"]:
        key = (f["repeat"], f["fold"])
        if key not in theirs:
            raise AmmgcError(f"{other.get('label', other['method'])} has no fold {key}: the runs are not paired")
        diffs.setdefault(f["repeat"], []).append(f[metric] - theirs[key])
    values = [float(np.mean(v)) for v in diffs.values()] if len(diffs) > 1 else next(iter(diffs.values()))
    sem = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    return float(np.mean(values)), sem


#: The metrics of the protocol summary: how a ranking reads overall, per drug and at the top.
PROTOCOL_METRICS = ("ap", "auc", "drug_ap", "prec_at_100")


def protocol_rows(results: Mapping[str, Mapping[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per method: each protocol's mean and standard error of the summary metrics."""
    methods = list(dict.fromkeys(name for bodies in results.values() for name in bodies))
    rows = []
    for name in methods:
        row: dict[str, Any] = {"method": name}
        for split, bodies in results.items():
            body = bodies.get(name)
            for m in PROTOCOL_METRICS:
                row[f"{split}_{m}"] = body["mean"][m] if body else None
                row[f"{split}_{m}_sem"] = body["sem"][m] if body else None
        rows.append(row)
    return rows


def protocols_markdown(rows: list[dict[str, Any]], results: Mapping[str, Mapping[str, dict[str, Any]]]) -> str:
    splits = list(results)
    lines = ["# Every method under every protocol", ""]
    for m in PROTOCOL_METRICS:
        lines += [f"## {USER_METRIC_LABELS[m]}", "",
                  "| method | " + " | ".join(splits) + (" | drop pair -> " + " | drop pair -> ".join(
                      s for s in splits if s != "pair") + " |" if "pair" in splits and len(splits) > 1 else " |"),
                  "|---|" + "---|" * len(splits) + ("---|" * (len(splits) - 1) if "pair" in splits else "")]
        best = {s: max((r[f"{s}_{m}"] for r in rows if r[f"{s}_{m}"] is not None), default=None) for s in splits}
        for r in rows:
            cells = []
            for s in splits:
                value = r[f"{s}_{m}"]
                text = "–" if value is None else f"{value:.4f} ± {r[f'{s}_{m}_sem']:.4f}"
                cells.append(f"**{text}**" if value is not None and value == best[s] else text)
            if "pair" in splits and len(splits) > 1:
                for s in splits:
                    if s == "pair":
                        continue
                    pair, other = r[f"pair_{m}"], r[f"{s}_{m}"]
                    cells.append("–" if pair is None or other is None or pair == 0
                                 else f"{100 * (other - pair) / pair:+.0f}%")
            lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Mean ± standard error (over repeat means; over cut-offs for the time split). Bold: best under the "
              "protocol. Drop: relative change from random pairs to the protocol.", ""]
    reference = "ammgc"
    if all(reference in bodies for bodies in results.values()):
        lines += [f"## {reference} against every other method, paired on the same folds", "",
                  f"Difference {reference} − method, mean ± standard error of the per-repeat (time: per-cut-off) "
                  "differences, and how many standard errors that is.", ""]
        for m in PROTOCOL_METRICS:
            lines += [f"### {USER_METRIC_LABELS[m]}", "", "| method | " + " | ".join(splits) + " |",
                      "|---|" + "---|" * len(splits)]
            for r in rows:
                if r["method"] == reference:
                    continue
                cells = []
                for s in splits:
                    other = results[s].get(r["method"])
                    if other is None:
                        cells.append("–")
                        continue
                    diff, sem = paired_difference(results[s][reference], other, m)
                    cells.append(f"{diff:+.4f} ± {sem:.4f} ({diff / sem:+.1f} SE)" if sem > 0 else f"{diff:+.4f}")
                lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
            lines.append("")
    for split, bodies in results.items():
        first = next(iter(bodies.values()))
        repeats = len({f["repeat"] for f in first["folds"]})
        lines.append(f"- {split}: {repeats} repeat(s), {len(first['folds'])} folds in all")
    return "\n".join(lines) + "\n"


def table_rows(bodies: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: our mean and std per metric, the paper's beside them, time per fold, best marks."""
    best = {m: max(bodies[n]["mean"][m] for n in bodies) for m in TABLE_METRICS}
    rows = []
    for name, body in bodies.items():
        mean, std = body["mean"], body["std"]
        # the paper's numbers are of its own protocol and benchmark only
        on_paper = body.get("split", "pair") == "pair" and body.get("dataset") == DATASET_NAME
        paper = {m: mean for m, (mean, _) in TABLE1.get(name, {}).items()} if on_paper else {}
        paper_std = {m: std for m, (_, std) in TABLE1.get(name, {}).items()} if on_paper else {}
        row: dict[str, Any] = {"method": name}
        for m in TABLE_METRICS:
            row[m] = mean[m]
            row[f"{m}_std"] = std[m]
            row[f"{m}_paper"] = paper.get(m)
            row[f"{m}_paper_std"] = paper_std.get(m)
        for m in USER_METRICS:
            row[m] = mean[m]
            row[f"{m}_sem"] = body["sem"][m]
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
                   repeats: int, seed: int, digest: str, source: str, split: str = "pair") -> str:
    paper_best = {m: max((r[f"{m}_paper"] for r in rows if r[f"{m}_paper"] is not None), default=None)
                  for m in TABLE_METRICS}
    header = "| method | " + " | ".join(f"{m.upper()} ours | {m.upper()} paper" for m in TABLE_METRICS) + " |"
    lines = [f"# Table 1 under the {split} protocol", "", header, "|---|" + "---|---|" * len(TABLE_METRICS)]
    for r in rows:
        best = set(r["best"].split(";"))
        cells = []
        for m in TABLE_METRICS:
            cells.append(_cell(r[m], r[f"{m}_std"], m in best))
            paper = r[f"{m}_paper"]
            cells.append(_cell(paper, r[f"{m}_paper_std"], paper is not None and paper == paper_best[m]))
        lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
    plan = (f"{repeats} repeat(s) x {n_folds}-fold CV (seed {seed})" if split != "time"
            else f"one fold per time cut-off ({len(next(iter(bodies.values()))['folds'])} cut-offs)")
    lines += ["", "Bold: best in the column (ours and the paper's marked separately).",
              f"Ours: {split} split, {plan} on {source}, mean ± std over folds; "
              + ("the paper: 10 x 5-fold CV over random pairs. " if split == "pair" else
                 "the paper's numbers belong to its random-pair protocol and are not shown here. ")
              + "Test set = held-out positives + every unobserved pair; F1/ACC/REC at the max-F1 threshold.",
              f"Every method ran on the same folds (split plan digest {digest}).", "",
              "## Ranking metrics (mean ± standard error)", "",
              "| method | " + " | ".join(USER_METRIC_LABELS[m] for m in USER_METRICS) + " |",
              "|---|" + "---|" * len(USER_METRICS)]
    user_best = {m: max(r[m] for r in rows) for m in USER_METRICS}
    for r in rows:
        lines.append(f"| {r['method']} | " + " | ".join(
            _cell(r[m], r[f"{m}_sem"], r[m] == user_best[m]) for m in USER_METRICS) + " |")
    lines += ["", "Standard error over repeat means (over cut-offs for the time split).", "",
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
