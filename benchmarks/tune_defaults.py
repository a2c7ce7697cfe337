"""Choose every method's defaults under the honest protocols: ``ammgc tune`` for each method and protocol.

Runs :func:`ammgc.experiments.tune.run_tune` (the method's own grid, ``DEFAULT_GRIDS``) for every method
under the study and time protocols, then writes one page that puts the choices side by side with each
grid point's inner numbers. No outer test pair is looked at (see ``ammgc/experiments/tune.py``). Where
the protocols choose differently, the default is the point with the best mean relative inner AP
(its AP divided by the protocol's best AP, averaged over the protocols). Example:

    python benchmarks/tune_defaults.py --out runs/tune-all                  # every method, study and time
    python benchmarks/tune_defaults.py --methods cf,lp --splits time
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from ammgc.data import load_dataset
from ammgc.experiments.tune import DEFAULT_GRIDS, run_tune
from ammgc.io import atomic_write_text
from ammgc.runtime import default_jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default="cf,lp,gf,sdne,gcmdr,ammgc")
    parser.add_argument("--splits", default="study,time")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/tune-all"))
    args = parser.parse_args()
    dataset = load_dataset().with_publications()
    sections, choices = [], []
    splits, methods = args.splits.split(","), args.methods.split(",")
    for split in splits:
        for method in methods:
            folder = args.out / split / method
            chosen = run_tune(method, dataset, split=split, jobs=args.jobs or default_jobs(), out=folder,
                              progress=True)
            table = pd.read_csv(folder / "tune.csv")
            # seconds of training summed over every point and fold (a resumed run keeps the first run's)
            training = float((table["seconds_per_fold"] * table["folds"]).sum())
            print(f"{split:<6} {method:<8} chosen {json.dumps(chosen['point'], sort_keys=True)} "
                  f"inner AP {chosen['inner_ap']:.4f} ({training:.0f} s of training)", flush=True)
            choices.append(f"| {method} | {split} | `{json.dumps(chosen['point'], sort_keys=True)}` | "
                           f"{chosen['inner_ap']:.4f} | {len(DEFAULT_GRIDS.get(method, [{}]))} | {training:.0f} |")
            body = (folder / "tune.md").read_text().split("\n", 1)[1]
            sections.append(f"## {method}, {split} protocol\n{body}")
    defaults = ["| method | default (best mean relative inner AP over " + ", ".join(splits) + ") | "
                + " | ".join(f"relative AP, {s}" for s in splits) + " |", "|---|---|" + "---|" * len(splits)]
    for method in methods:
        tables = {s: pd.read_csv(args.out / s / method / "tune.csv") for s in splits}
        relative = {s: t["ap"] / t["ap"].max() for s, t in tables.items()}
        mean = sum(relative.values()) / len(splits)
        best = int(mean.to_numpy().argmax())
        defaults.append(f"| {method} | `{tables[splits[0]]['point'][best]}` | "
                        + " | ".join(f"{relative[s][best]:.3f}" for s in splits) + " |")
    page = ["# Defaults chosen by inner validation", "",
            "`python benchmarks/tune_defaults.py` (each row: `ammgc tune --method M --split S`).", "",
            "| method | protocol | chosen | inner AP | grid points | training s |", "|---|---|---|---|---|---|",
            *choices, "", "## One default for both protocols", "", *defaults, "", *sections]
    atomic_write_text(args.out / "TUNING.md", "\n".join(page) + "\n")
    print(f"wrote {args.out / 'TUNING.md'}")


if __name__ == "__main__":
    main()
