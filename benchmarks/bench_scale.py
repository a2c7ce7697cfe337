"""How AMMGC's cost grows with the size of the graph: synthetic benchmarks 1x, 10x, 100x the real one.

The real benchmark has 106 drugs, 754 miRNAs, 3,338 associations and feature widths 920 (fingerprint),
85 (SMILES code), 172 (expression) and 1,917 (the miRBase similarity standing in for GO). A scale s
multiplies drugs, miRNAs and associations by s; ``--width-scale`` multiplies the four widths. Each size
runs in its own process, so its peak memory is its own. Per size it prints seconds per GCN epoch (all
modals) and per attention epoch, wall and CPU; the setup (features, adjacency); scoring every pair in
blocks (``AMMGC.score_blocks``, keeping the top 100); and peak RSS of each phase. Then the growth
exponent k of each cost between consecutive sizes (cost ~ size^k). Examples:

    python benchmarks/bench_scale.py                                  # scales 1, 10, 100
    python benchmarks/bench_scale.py --scales 10 --width-scale 1,10   # cost against feature width
    python benchmarks/bench_scale.py --json scale.json

Timings are of one torch thread (``--threads``), so the CPU seconds are the work done; wall seconds
also count waiting for a core, and every line says what the load average was.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ammgc.data.dataset import Dataset, FeatureView

BASE = {"drugs": 106, "mirnas": 754, "associations": 3338}
# (view, entity, width at 1x); "go" stands for X_m2 with the width of the miRBase sequence view it replaces
BASE_WIDTHS = (("fingerprint", "drug", 920), ("smiles_code", "drug", 85), ("expression", "mirna", 172),
               ("go", "mirna", 1917))
TOP_K = 100
ROW_CHUNK = 4096  # rows generated at a time, to keep float64 temporaries small at 100x


def synthetic_dataset(scale: float, width_scale: float = 1.0, seed: int = 0) -> Dataset:
    """A benchmark-like dataset ``scale`` times the real one's size, with features like the real ones.

    Associations follow a Chung-Lu model with heavy-tailed node weights (the real drug degrees run from
    1 to 401 around a median of 3). Features: a binary fingerprint with per-bit frequencies around the
    real one's density (0.155); integer SMILES codes 1-34, zero-padded, about 65% filled; non-negative
    expression values, 78% non-zero; similarities in (0.03, 1] with mean about 0.1, all non-zero.
    """
    rng = np.random.default_rng(seed)
    p, q = round(BASE["drugs"] * scale), round(BASE["mirnas"] * scale)
    n_edges = round(BASE["associations"] * scale)
    drug_w = rng.lognormal(0.0, 1.6, p)
    mirna_w = rng.lognormal(0.0, 0.6, q)
    flat = np.empty(0, dtype=np.int64)
    while len(flat) < n_edges:
        extra = int(1.2 * (n_edges - len(flat))) + 16
        drugs = rng.choice(p, extra, p=drug_w / drug_w.sum())
        mirnas = rng.choice(q, extra, p=mirna_w / mirna_w.sum())
        flat = np.unique(np.concatenate([flat, drugs * q + mirnas]))
    flat = rng.permutation(flat)[:n_edges]
    # float32, the dtype fit trains on, so the p x q matrix exists once (3.2 GB at 100x)
    associations = np.zeros((p, q), dtype=np.float32)
    associations.ravel()[flat] = 1.0

    def rows(n: int, width: int, make: Callable[[int, int], np.ndarray]) -> np.ndarray:
        out = np.empty((n, width), dtype=np.float32)
        for start in range(0, n, ROW_CHUNK):
            stop = min(n, start + ROW_CHUNK)
            out[start:stop] = make(stop - start, width)
        return out

    widths = {name: max(1, round(width * width_scale)) for name, _, width in BASE_WIDTHS}
    bit_freq = rng.beta(0.4, 2.2, widths["fingerprint"])

    def fingerprint(n: int, w: int) -> np.ndarray:
        return rng.random((n, w), dtype=np.float32) < bit_freq

    def smiles_code(n: int, w: int) -> np.ndarray:
        lengths = np.minimum(w, rng.poisson(0.65 * w, n))
        return rng.integers(1, 35, (n, w)) * (np.arange(w)[None, :] < lengths[:, None])

    def expression(n: int, w: int) -> np.ndarray:
        return rng.lognormal(0.0, 1.0, (n, w)) * (rng.random((n, w)) < 0.78)

    def similarity(n: int, w: int) -> np.ndarray:
        return 0.03 + 0.97 * rng.random((n, w), dtype=np.float32) ** 12

    makers = {"fingerprint": fingerprint, "smiles_code": smiles_code, "expression": expression, "go": similarity}
    views = [FeatureView(name, entity, rows(p if entity == "drug" else q, widths[name], makers[name]),
                         source=f"synthetic x{scale:g}", note="bench_scale.py synthetic view")
             for name, entity, _ in BASE_WIDTHS]
    drugs = pd.DataFrame({"name": [f"drug{i}" for i in range(p)], "cid": "", "mesh": "", "smiles": ""})
    mirnas = pd.DataFrame({"name": [f"hsa-mir-s{i}" for i in range(q)]})
    return Dataset(associations, drugs, mirnas, {v.name: v for v in views}, source=f"synthetic x{scale:g}",
                   name=f"synthetic-x{scale:g}")


def _peak_rss_mb() -> float:
    """Peak resident memory since the last ``_reset_peak`` (Linux), else since the process started."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def measure(scale: float, width_scale: float, *, epochs_gcn: int, epochs_attention: int,
            modals: tuple[int, ...] | None, threads: int, seed: int) -> dict[str, Any]:
    """Generate, fit and score one size in this process; return every measurement."""
    import torch
    from bench_fold import gcn_epoch_flops

    import ammgc.models.ammgc as module

    torch.set_num_threads(threads)
    record: dict[str, Any] = {"scale": scale, "width_scale": width_scale, "threads": threads,
                              "load_before": os.getloadavg()[0]}
    w0, c0 = _clock()
    dataset = synthetic_dataset(scale, width_scale, seed)
    w1, c1 = _clock()
    record.update(drugs=dataset.n_drugs, mirnas=dataset.n_mirnas,
                  associations=int(np.count_nonzero(dataset.associations)),
                  widths={n: v.shape[1] for n, v in dataset.views.items()},
                  generate_wall=w1 - w0, generate_cpu=c1 - c0, data_rss_mb=_peak_rss_mb())

    spans: dict[str, list[tuple[int, float, float]]] = {"gcn": [], "attention": []}

    def timed(fn: Callable[..., Any], key: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start_w, start_c = _clock()
            out = fn(*args, **kwargs)
            end_w, end_c = _clock()
            spans[key].append((kwargs["epochs"], end_w - start_w, end_c - start_c))
            return out
        return wrapper

    # the names AMMGC.fit calls them by: the two training stages of ammgc.models.training
    module.train_encoder = timed(module.train_encoder, "gcn")
    module.train_fusion = timed(module.train_fusion, "attention")
    model = module.AMMGC(epochs_gcn=epochs_gcn, epochs_attention=epochs_attention, modals=modals)
    specs = model.modal_specs(dataset)
    drug_widths = [sum(dataset.view(v).shape[1] for v in s.drug_views) for s in specs]
    mirna_widths = [sum(dataset.view(v).shape[1] for v in s.mirna_views) for s in specs]
    widths = [max(d, m) for d, m in zip(drug_widths, mirna_widths, strict=True)]
    # the first layer multiplies each block without its zero padding
    entries = [dataset.n_drugs * d + dataset.n_mirnas * m for d, m in zip(drug_widths, mirna_widths, strict=True)]
    _reset_peak()
    w0, c0 = _clock()
    model.fit(dataset, seed=seed)
    w1, c1 = _clock()
    record.update(fit_wall=w1 - w0, fit_cpu=c1 - c0, fit_rss_mb=_peak_rss_mb(), modal_widths=widths)
    gcn_epochs = sum(e for e, _, _ in spans["gcn"]) / len(spans["gcn"])
    record["gcn_epoch_wall"] = sum(w for _, w, _ in spans["gcn"]) / gcn_epochs
    record["gcn_epoch_cpu"] = sum(c for _, _, c in spans["gcn"]) / gcn_epochs
    att = spans["attention"]
    record["attention_epoch_wall"] = att[0][1] / max(1, att[0][0]) if att else 0.0
    record["attention_epoch_cpu"] = att[0][2] / max(1, att[0][0]) if att else 0.0
    record["setup_wall"] = record["fit_wall"] - sum(w for _, w, _ in spans["gcn"]) - sum(w for _, w, _ in att)
    flops = gcn_epoch_flops(entries, tuple(model.config.hidden), dataset.n_drugs + dataset.n_mirnas)
    record["gcn_epoch_gflop"] = flops / 1e9

    _reset_peak()
    w0, c0 = _clock()
    best = np.empty(0)
    for _, block in model.score_blocks():
        best = np.partition(np.concatenate([best, block.ravel()]), -TOP_K)[-TOP_K:]
    w1, c1 = _clock()
    n_modals, _, dim = model.network_.embeddings.shape
    fused_width = int(n_modals * dim)  # Z = the modals' embeddings side by side
    record.update(score_wall=w1 - w0, score_cpu=c1 - c0, score_rss_mb=_peak_rss_mb(), pairs=dataset.associations.size,
                  score_gflop=2.0 * dataset.associations.size * fused_width / 1e9, top_score=float(best.max()),
                  dense_scores_gb=8.0 * dataset.associations.size / 1e9, load_after=os.getloadavg()[0])
    return record


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), model)
        with open("/proc/meminfo") as info:
            memory = f", {int(info.readline().split()[1]) / 2**20:.0f} GiB RAM"
    except OSError:
        memory = ""
    return f"{model}, {cores} cores{memory}, Python {platform.python_version()}"


def growth(records: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Exponent k with cost ~ size^k between consecutive records (size: scale, else width scale)."""
    out = []
    for a, b in zip(records[:-1], records[1:], strict=True):
        changed = [k for k in ("scale", "width_scale") if a[k] != b[k]]
        if len(changed) != 1:
            continue
        by = changed[0]
        ratio = b[by] / a[by]
        row: dict[str, Any] = {"from": a[by], "to": b[by], "by": by}
        for key in keys:
            row[key] = math.log(b[key] / a[key]) / math.log(ratio) if a[key] > 0 and b[key] > 0 else float("nan")
        out.append(row)
    return out


def _contended(load: float) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return "CONTENDED" if load > cores - 0.5 else "idle"


def report(records: list[dict[str, Any]]) -> str:
    lines = ["| scale | width x | drugs | miRNAs | edges | pairs | GCN epoch wall / CPU s (GFLOP) | "
             "attention epoch wall / CPU s | setup wall s | score all pairs wall / CPU s | "
             "peak RSS data / fit / score MB | load 1-min |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        load = max(r["load_before"], r["load_after"])
        lines.append(
            f"| {r['scale']:g}x | {r['width_scale']:g} | {r['drugs']:,} | {r['mirnas']:,} | {r['associations']:,} "
            f"| {r['pairs']:.3g} | {r['gcn_epoch_wall']:.2f} / {r['gcn_epoch_cpu']:.2f} ({r['gcn_epoch_gflop']:.1f}) "
            f"| {r['attention_epoch_wall']:.3f} / {r['attention_epoch_cpu']:.3f} | {r['setup_wall']:.1f} "
            f"| {r['score_wall']:.2f} / {r['score_cpu']:.2f} | {r['data_rss_mb']:,.0f} / {r['fit_rss_mb']:,.0f} / "
            f"{r['score_rss_mb']:,.0f} | {r['load_before']:.1f}-{r['load_after']:.1f} {_contended(load)} |")
    keys = ("gcn_epoch_cpu", "attention_epoch_cpu", "score_cpu", "fit_rss_mb", "data_rss_mb")
    rows = growth(records, keys)
    if rows:
        lines += ["", "| growth | k: GCN epoch CPU | attention epoch CPU | scoring CPU | fit peak RSS | data RSS |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['by']} {r['from']:g} -> {r['to']:g} | " + " | ".join(f"{r[k]:.2f}" for k in keys) + " |"
                  for r in rows]
    return "\n".join(lines)


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=_floats, default=[1.0, 10.0, 100.0], help="comma-separated, e.g. 1,10,100")
    parser.add_argument("--width-scale", type=_floats, default=[1.0], help="comma-separated feature width factors")
    parser.add_argument("--epochs-gcn", type=int, default=3)
    parser.add_argument("--epochs-attention", type=int, default=3)
    parser.add_argument("--modals", default="", help="e.g. 1,2 (default: all four)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write every measurement here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    modals = tuple(int(m) for m in args.modals.split(",")) if args.modals else None
    if args.child:
        record = measure(args.scales[0], args.width_scale[0], epochs_gcn=args.epochs_gcn,
                         epochs_attention=args.epochs_attention, modals=modals, threads=args.threads, seed=args.seed)
        print("RESULT " + json.dumps(record))
        return
    print(f"machine: {machine()}; torch threads per run {args.threads}; load {os.getloadavg()}")
    print(f"epochs: GCN {args.epochs_gcn}, attention {args.epochs_attention}; modals {args.modals or '1,2,3,4'}")
    records = []
    plan = [(s, w) for s in args.scales for w in args.width_scale]
    for scale, width in tqdm(plan, desc="sizes", unit="size"):
        command = [sys.executable, __file__, "--child", "--scales", str(scale), "--width-scale", str(width),
                   "--epochs-gcn", str(args.epochs_gcn), "--epochs-attention", str(args.epochs_attention),
                   "--modals", args.modals, "--threads", str(args.threads), "--seed", str(args.seed)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if done.returncode != 0 or line is None:
            tqdm.write(f"scale {scale:g} width x{width:g} failed (exit {done.returncode}): "
                       f"{done.stderr.strip().splitlines()[-1:] or ['no output']}")
            continue
        record = json.loads(line.removeprefix("RESULT "))
        records.append(record)
        tqdm.write(f"scale {scale:g} width x{width:g}: fit {record['fit_wall']:.1f} s, "
                   f"score {record['score_wall']:.1f} s, load {record['load_after']:.1f}")
    print(report(records))
    if args.json:
        from ammgc.io import atomic_write_json

        atomic_write_json(args.json, {"machine": machine(), "records": records})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
