"""Choose every method's defaults under the honest protocols: ``ammgc tune`` for each method and protocol.

Runs :func:`ammgc.experiments.tune.run_tune` (the method's own grid, ``DEFAULT_GRIDS``) for every method
under the study and time protocols, then writes one page that puts the choices side by side with each
grid point's inner numbers. No outer test pair is looked at (see ``ammgc/experiments/tune.py``). Example:

    python benchmarks/tune_defaults.py --out runs/tune-all                  # every method, study and time
    python benchmarks/tune_defaults.py --methods cf,lp --splits time
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ammgc.data import load_dataset
from ammgc.data.publications import with_publications
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
    dataset = with_publications(load_dataset())
    sections, choices = [], []
    for split in args.splits.split(","):
        for method in args.methods.split(","):
            start = time.perf_counter()
            folder = args.out / split / method
            chosen = run_tune(dataset, method, split=split, jobs=args.jobs or default_jobs(), out=folder)
            wall = time.perf_counter() - start
            print(f"{split:<6} {method:<8} chosen {json.dumps(chosen['point'], sort_keys=True)} "
                  f"inner AP {chosen['inner_ap']:.4f} ({wall:.0f} s)", flush=True)
            choices.append(f"| {method} | {split} | `{json.dumps(chosen['point'], sort_keys=True)}` | "
                           f"{chosen['inner_ap']:.4f} | {len(DEFAULT_GRIDS.get(method, [{}]))} | {wall:.0f} |")
            body = (folder / "tune.md").read_text().split("\n", 1)[1]
            sections.append(f"## {method}, {split} protocol\n{body}")
    page = ["# Defaults chosen by inner validation", "",
            "`python benchmarks/tune_defaults.py` (each row: `ammgc tune --method M --split S`).", "",
            "| method | protocol | chosen | inner AP | grid points | wall s |", "|---|---|---|---|---|---|",
            *choices, "", *sections]
    atomic_write_text(args.out / "TUNING.md", "\n".join(page) + "\n")
    print(f"wrote {args.out / 'TUNING.md'}")


if __name__ == "__main__":
    main()
