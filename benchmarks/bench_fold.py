"""Time one AMMGC cross-validation fold on the benchmark and relate it to the machine's limit.

Prints, per run: seconds per fold, per sub-network epoch and per attention epoch; the median over
runs; peak RSS; the estimated FLOPs of one epoch and the achieved GFLOP/s. Examples:

    python benchmarks/bench_fold.py --runs 5                # tool defaults (100 / 200 epochs)
    python benchmarks/bench_fold.py --runs 5 -o epochs_gcn=400 -o epochs_attention=1000 -o degree_prior=0
    python benchmarks/bench_fold.py --runs 5 -o device=cuda    # on a machine with a GPU

The modals train side by side on ``--threads`` threads (default: every usable core; the scores do not
depend on it). Each run uses seed = run number. The FLOP count covers the dense matrix products of a
GCN epoch without the zero padding the model skips (forward and the weight gradients of backward,
2 FLOPs per multiply-add); sparse adjacency products and the decoder are small beside them. GCN
seconds are summed over the modals (CPU seconds when they overlap); GFLOP/s is per core busy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time

import torch

from ammgc import methods
from ammgc.data import load_dataset
from ammgc.data.source import located
from ammgc.evaluation.metrics import evaluate_scores
from ammgc.evaluation.splits import PairSplit
from ammgc.models.layers import PaddedBlocks
from ammgc.runtime import usable_cores


def gcn_epoch_flops(first_layer_entries: list[int], hidden: tuple[int, ...], n_nodes: int) -> float:
    """Forward (H W) plus backward (W gradient, and input gradient for every layer but the first);
    ``first_layer_entries``: per modal, the node-feature entries the first layer multiplies."""
    total = 0.0
    for entries in first_layer_entries:
        total += 2 * 2.0 * entries * hidden[0]
        for a, b in zip(hidden[:-1], hidden[1:], strict=True):
            total += 3 * 2.0 * n_nodes * a * b
    return total


def matmul_gflops(seconds: float = 0.3) -> float:
    """One thread's speed right now on the model's largest product (754 x 1,917 x 128): a shared or
    virtual machine's speed drifts, and this shows it beside every run."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    x, w = torch.rand(754, 1917), torch.rand(1917, 128)
    x @ w
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        x @ w
        count += 1
    torch.set_num_threads(previous)
    return 2 * 754 * 1917 * 128 * count / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--mirbase", default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--threads", type=int, default=usable_cores(), help="threads of one fold")
    parser.add_argument("-o", "--option", action="append", default=[], help="KEY=JSON config override")
    args = parser.parse_args()
    config = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.option)}
    threads = args.threads
    torch.set_num_threads(threads)
    model = methods.get("ammgc", **config)
    model.check_params()  # before the views are computed
    with located(mirbase=args.mirbase):
        dataset = model.prepare(load_dataset(args.data))
    views = model.inputs(dataset)
    fold = list(PairSplit(n_folds=5, repeats=1, seed=0).split(dataset))[args.fold]
    specs = model.modal_specs(dataset)
    inputs = [model.encoder_input(dataset, s, torch.device("cpu")) for s in specs]
    widths = [x.shape[1] for x in inputs]
    entries = [sum(b.numel() for b in x.blocks) if isinstance(x, PaddedBlocks) else x.numel() for x in inputs]
    hidden = tuple(model.config.hidden)
    flops = gcn_epoch_flops(entries, hidden, dataset.n_drugs + dataset.n_mirnas)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {threads}, "
          f"load {os.getloadavg()[0]:.2f}")
    if model.config.device.startswith("cuda"):
        print(f"device: {torch.cuda.get_device_name(torch.device(model.config.device))} (-o device=cuda)")
    print(f"config: {json.dumps(model.config_dict())}")
    print(f"modal widths {widths} ({sum(entries):,} feature entries without padding); "
          f"GCN FLOPs per epoch (all modals) {flops / 1e9:.2f} GFLOP")
    totals = []
    for run in range(args.runs):
        speed = matmul_gflops()
        start = time.perf_counter()
        fitted = methods.clone(model).fit(dataset, fold.train, seed=run)
        metrics = evaluate_scores(fold.labels, fitted.predict_scores(fold.candidates))
        total = time.perf_counter() - start
        totals.append(total)
        gcn_seconds = sum(v for k, v in fitted.timings_.items() if k != "attention")
        gcn_epoch = gcn_seconds / max(1, fitted.config.epochs_gcn)
        att_epoch = fitted.timings_["attention"] / max(1, fitted.config.epochs_attention)
        print(f"run {run}: fold {total:.1f} s | GCN {gcn_seconds:.1f} s ({gcn_epoch * 1e3:.1f} ms/epoch, "
              f"{flops / gcn_epoch / 1e9:.1f} GFLOP/s) | attention {fitted.timings_['attention']:.1f} s "
              f"({att_epoch * 1e3:.2f} ms/epoch) | AUC {metrics['auc']:.4f} AUPR {metrics['aupr']:.4f} | "
              f"machine before the run: {speed:.0f} GFLOP/s on one thread")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median fold: {statistics.median(totals):.1f} s over {len(totals)} run(s); "
          f"ratio to the TensorFlow reference (~700 s): {700 / statistics.median(totals):.0f}x; "
          f"peak RSS {peak_mb:.0f} MB; views {views}")


if __name__ == "__main__":
    main()
