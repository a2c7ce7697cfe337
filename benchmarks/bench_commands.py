"""Wall time of the commands a user runs again and again: `ammgc --version`, `--help`, and `predict` / `explain` on
a saved model of the benchmark. Each command runs as its own process, as a user runs it, `--runs` times after one
warm-up (which fills the view cache); the minimum and median are printed. A model is trained here when none is
given (`ammgc train --no-calibrate` with short epochs: the saved-model commands do the same work whatever the
epochs were).

    python benchmarks/bench_commands.py --runs 5
    python benchmarks/bench_commands.py --model benchmark.ammgc
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: a drug the benchmark does not hold
OSIMERTINIB = "CN1C=C(C2=CC=CC=C21)C3=NC(=NC=C3)NC4=C(C=C(C(=C4)NC(=O)C=C)N(C)CCN(C)C)OC"


def timed(args: list[str], runs: int) -> list[float]:
    """Seconds of ``ammgc ARGS`` as a fresh process, ``runs`` times after a warm-up."""
    command = [sys.executable, "-m", "ammgc", *args]
    subprocess.run(command, check=True, capture_output=True)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", type=Path, help="a model file of the benchmark (default: trained here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = Path(tmp) / "bench.ammgc"
            subprocess.run([sys.executable, "-m", "ammgc", "train", "--no-calibrate", "--epochs-gcn", "5",
                            "--epochs-attention", "5", "--out", str(model)], check=True, capture_output=True)
        cases = {
            "ammgc --version": ["--version"],
            "ammgc --help": ["--help"],
            "predict --model --drug Cisplatin --top 20": ["predict", "--model", str(model), "--drug", "Cisplatin"],
            "predict --model --new-drug (SMILES)": ["predict", "--model", str(model), "--new-drug", "osimertinib",
                                                    "--smiles", OSIMERTINIB],
            "explain --model Cisplatin x hsa-mir-21": ["explain", "--model", str(model), "--drug", "Cisplatin",
                                                       "--mirna", "hsa-mir-21"],
        }
        print(f"{'command':45} {'min s':>7} {'median s':>9}   ({args.runs} runs after a warm-up)")
        for name, command in cases.items():
            seconds = timed(command, args.runs)
            print(f"{name:45} {min(seconds):7.2f} {statistics.median(seconds):9.2f}")


if __name__ == "__main__":
    main()
