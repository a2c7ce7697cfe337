"""The open benchmark's results table: built-in methods scored from exported folds and graded by ammgc's grader.

For each protocol (default: pair, study and time with their default settings) this exports the folds
(``ammgc.evaluation.export_folds``, as ``ammgc folds export`` does), then treats each method as an outside
tool would be treated: it reads each fold's train.csv and candidates.csv, fits the method on those
training pairs (with the dataset's features and publications, and the fold seed ``cross_validate`` uses),
writes scores.csv, and grades the scores with ``ammgc.evaluation.evaluate_predictions``. It writes
OUT/open-benchmark.md (a table per metric, mean ± standard error, with each export's folds_sha256,
dataset sha256 and split-plan digest, the digest ``ammgc compare`` prints in table1.md) and
OUT/open-benchmark.csv; OUT/folds-<split>/, OUT/predictions-<split>/<method>/ and OUT/grades-<split>/<method>/
keep every file. A rerun reuses the exports and the predictions already written.

    python benchmarks/open_benchmark_table.py --methods popularity,popularity-studies,cf,cf-mirna,lp
    python benchmarks/open_benchmark_table.py --methods all --splits pair   # every method: hours on 2 cores
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ammgc import methods
from ammgc.data import load_dataset
from ammgc.evaluation import evaluate_predictions, export_folds
from ammgc.evaluation.runner import fold_seed
from ammgc.evaluation.splits import splitter
from ammgc.experiments.compare import ALL_METHODS, fold_plan_digest
from ammgc.io import atomic_write_text
from ammgc.reporting.tables import SUMMARY_METRICS, USER_METRIC_LABELS, cell
from ammgc.runtime import torch_threads, training_threads


def score_folds(method_name: str, dataset, folds: Path, out: Path, seed: int) -> float:
    """out/<fold-id>/scores.csv of every fold, fitted on its train.csv; seconds spent (0 where all were there)."""
    drug_ids = pd.read_csv(folds / "drugs.csv", keep_default_na=False)["drug"].tolist()
    mirna_ids = pd.read_csv(folds / "mirnas.csv", keep_default_na=False)["mirna"].tolist()
    drug_index = {d: k for k, d in enumerate(drug_ids)}
    mirna_index = {m: k for k, m in enumerate(mirna_ids)}
    method = methods.get(method_name)
    data = methods.prepare(method, dataset)
    start = time.perf_counter()
    for fold in sorted(p for p in folds.iterdir() if p.is_dir()):
        target = out / fold.name / "scores.csv"
        if target.is_file():
            continue
        train = pd.read_csv(fold / "train.csv", keep_default_na=False)
        candidates = pd.read_csv(fold / "candidates.csv", keep_default_na=False)
        matrix = np.zeros((len(drug_ids), len(mirna_ids)), dtype=np.uint8)
        matrix[train["drug"].map(drug_index).to_numpy(), train["mirna"].map(mirna_index).to_numpy()] = 1
        repeat, k = (int(part[1:]) for part in fold.name.split("_"))
        with torch_threads(training_threads()):
            model = methods.clone(method).fit(data, matrix, seed=fold_seed(seed, repeat, k))
        scores = np.asarray(model.predict_scores(), dtype=np.float64)
        candidates["score"] = scores[candidates["drug"].map(drug_index).to_numpy(),
                                     candidates["mirna"].map(mirna_index).to_numpy()]
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, candidates.to_csv(index=False, float_format="%.17g", lineterminator="\n"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="dataset (default: the benchmark)")
    parser.add_argument("--methods", default="popularity,popularity-studies,cf,cf-mirna,lp",
                        help=f"comma-separated, or all ({', '.join(ALL_METHODS)})")
    parser.add_argument("--splits", default="pair,study,time")
    parser.add_argument("--out", type=Path, default=Path("runs/open-benchmark"))
    args = parser.parse_args()
    names = list(ALL_METHODS) if args.methods == "all" else [m.strip() for m in args.methods.split(",")]
    splits = [s.strip() for s in args.splits.split(",")]
    dataset = load_dataset(args.data)
    results: dict[str, dict[str, dict]] = {}
    exports = []
    for split in splits:
        cv = splitter(split)
        if cv.needs_publications:
            dataset = dataset.with_publications()
        folds = args.out / f"folds-{split}"
        start = time.perf_counter()
        manifest = export_folds(dataset, cv, folds)
        print(f"{split}: {len(manifest['folds'])} folds in {folds} ({time.perf_counter() - start:.1f} s)", flush=True)
        exports.append((split, manifest, fold_plan_digest(dataset, cv)))
        for name in names:
            seconds = score_folds(name, dataset, folds, args.out / f"predictions-{split}" / name, cv.seed)
            start = time.perf_counter()
            body = evaluate_predictions(folds, args.out / f"predictions-{split}" / name,
                                        args.out / f"grades-{split}" / name, dataset=dataset, label=name,
                                        references=())
            results.setdefault(name, {})[split] = body
            print(f"  {name}: AP {body['mean']['ap']:.4f}, AUC {body['mean']['auc']:.4f} (scored in {seconds:.1f} s, "
                  f"graded in {time.perf_counter() - start:.1f} s)", flush=True)
    rows = [{"method": name, **{f"{split}_{m}{suffix}": results[name][split][key][m]
                                for split in splits for m in SUMMARY_METRICS
                                for suffix, key in (("", "mean"), ("_sem", "sem"))}} for name in names]
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "open-benchmark.csv", pd.DataFrame(rows).to_csv(index=False))
    lines = ["# Built-in methods on the exported folds", ""]
    for m in SUMMARY_METRICS:
        lines += [f"## {USER_METRIC_LABELS[m]}", "", "| method | " + " | ".join(splits) + " |",
                  "|---|" + "---|" * len(splits)]
        lines += [f"| {r['method']} | " + " | ".join(cell(r[f'{s}_{m}'], r[f'{s}_{m}_sem']) for s in splits) + " |"
                  for r in rows]
        lines.append("")
    lines += ["Mean ± standard error (over repeat means; over cut-offs for the time split), each method fitted on "
              "the exported train.csv of every fold and its scores.csv graded by `ammgc evaluate`.", "",
              "| split | protocol | folds | folds_sha256 | dataset sha256 | split-plan digest |",
              "|---|---|---|---|---|---|"]
    for split, manifest, digest in exports:
        protocol = ", ".join(f"{k} {v}" for k, v in manifest["protocol"].items() if k != "split")
        lines.append(f"| {split} | {protocol} | {len(manifest['folds'])} | `{manifest['folds_sha256']}` | "
                     f"`{manifest['dataset']['sha256']}` | `{digest}` |")
    atomic_write_text(args.out / "open-benchmark.md", "\n".join(lines) + "\n")
    print(f"wrote {args.out / 'open-benchmark.md'} and {args.out / 'open-benchmark.csv'}")


if __name__ == "__main__":
    main()
