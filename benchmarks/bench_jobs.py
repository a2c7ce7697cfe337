"""Speed-up of ``ammgc cv --jobs N``: the same cross-validation run with 1, 2, ... fold processes, on this
machine's processes or on a Dask ``LocalCluster`` of N workers (``--executors local,dask``).

Each run is a fresh ``ammgc cv`` process writing to its own new output directory (nothing resumed).
Folds train on one torch thread each, so N jobs use N cores. Prints, per N: wall seconds, CPU seconds
of the run and its workers, the 1-minute load average before and after (flagged CONTENDED when it
exceeds the cores), the speed-up over the smallest N, and whether every fold's metrics equal those of that
run (they must: a fold's result does not depend on which process ran it). Example:

    python benchmarks/bench_jobs.py --data ../shared/data/gcmdr --mirbase ../shared/data/mirbase \\
        --jobs 1,2 -o epochs_gcn=30 -o epochs_attention=60

    python benchmarks/bench_jobs.py --jobs 2 --executors local,dask -o epochs_gcn=30 -o epochs_attention=60

With F folds and N jobs the best possible speed-up is F / ceil(F / N) (5 folds, 2 jobs: 1.67), less the
seconds each worker spends starting Python and importing torch.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_scale import machine
from tqdm.auto import tqdm


def run_cv(jobs: int, out: Path, args: argparse.Namespace, executor: str = "local") -> dict[str, Any]:
    command = [sys.executable, "-m", "ammgc", "cv", "--method", args.method, "--repeats", str(args.repeats),
               "--folds", str(args.folds), "--jobs", str(jobs), "--executor", executor, "--out", str(out)]
    command += ["--data", args.data] if args.data else []
    command += ["--mirbase", args.mirbase] if args.mirbase else []
    for option in args.option:
        command += ["-o", option]
    # one thread per fold, as the runner chooses by default; an inherited override would change that
    env = {k: v for k, v in os.environ.items() if k != "AMMGC_THREADS"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"ammgc cv --jobs {jobs} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    folds = {(f["repeat"], f["fold"]): {k: f[k] for k in ("aupr", "auc", "f1")} for f in metrics["folds"]}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"jobs": jobs, "executor": executor, "wall": wall, "cpu": cpu,
            "load_before": load_before, "load_after": os.getloadavg()[0], "folds": folds,
            "fold_seconds": sum(f["seconds"] for f in metrics["folds"]), "summary": done.stdout.strip().splitlines()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--mirbase", default=None)
    parser.add_argument("--method", default="ammgc")
    parser.add_argument("--jobs", default="1,2", help="comma-separated job counts, e.g. 1,2")
    parser.add_argument("--executors", default="local", help="comma-separated: local, dask")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("-o", "--option", action="append", default=[], help="KEY=VALUE passed to ammgc cv -o")
    parser.add_argument("--keep", type=Path, default=None, help="keep each run's output under this directory")
    args = parser.parse_args()
    job_counts = [int(j) for j in args.jobs.split(",") if j]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    print(f"machine: {machine()}; load {os.getloadavg()}")
    print(f"ammgc cv --method {args.method} --repeats {args.repeats} --folds {args.folds} "
          + " ".join(f"-o {o}" for o in args.option))
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_jobs_") as scratch:
        root = args.keep or Path(scratch)
        plan = [(jobs, executor) for executor in args.executors.split(",") for jobs in job_counts]
        for jobs, executor in tqdm(plan, desc="runs", unit="run"):
            out = root / f"{executor}-jobs{jobs}-{time.strftime('%Y%m%d-%H%M%S')}"
            runs.append(run_cv(jobs, out, args, executor))
            tqdm.write(f"--executor {executor} --jobs {jobs}: {runs[-1]['wall']:.1f} s wall; {runs[-1]['summary']}")
    base = min(runs, key=lambda r: (r["jobs"], r["executor"] != "local"))  # relative to the fewest local jobs
    print("| executor | --jobs | wall s | CPU s (all processes) | sum of fold seconds | speed-up | best possible | "
          "folds identical | load 1-min before-after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        n_folds = len(run["folds"])
        best = n_folds / -(-n_folds // run["jobs"]) / (n_folds / -(-n_folds // base["jobs"]))
        load = max(run["load_before"], run["load_after"])
        flag = "CONTENDED" if load > cores - 0.5 else "idle"
        print(f"| {run['executor']} | {run['jobs']} | {run['wall']:.1f} | {run['cpu']:.1f} | {run['fold_seconds']:.1f} "
              f"| {base['wall'] / run['wall']:.2f}x | {best:.2f}x | {run['folds'] == base['folds']} "
              f"| {run['load_before']:.1f}-{run['load_after']:.1f} {flag} |")


if __name__ == "__main__":
    main()
