"""How far a model file's stored scores lie from exact products of its stored network, against the tolerance a
model file is loaded with (``ammgc.models.modelfile.SCORE_TOLERANCE``).

A stored score is the float32 product Z_i . Z_j of fused embeddings plus a float64 prior. This prints the largest
distance of the stored scores from the same products in float64 (what any order of summation rounds around), as a
fraction of |Z_i| |Z_j| and as the share of the tolerance 1e-4 (|Z_i| |Z_j| + 1) it uses, and the scores recomputed
on 1, 2 and 4 threads. Example:

    python benchmarks/score_rounding.py                   # trains the prediction model on the benchmark (seed 0)
    python benchmarks/score_rounding.py model.ammgc       # a model file
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ammgc.models.ammgc import AMMGC
from ammgc.models.modelfile import SCORE_TOLERANCE
from ammgc.runtime import torch_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="a model file (default: train on the benchmark)")
    args = parser.parse_args()
    if args.model:
        model = AMMGC.load(args.model)
    else:
        from ammgc.data import load_dataset
        from ammgc.prediction.training import train

        model = train(load_dataset(), seed=0, calibrate=False)
    stored, p = model.predict_scores(), model.n_drugs_
    network = model.network_
    with torch.no_grad():
        z = network.fused.double()
        exact = (z[:p] @ z[p:].T).numpy()
        norms = torch.linalg.vector_norm(z, dim=1).numpy()
    decoder = network.decoder
    if decoder.weight:
        exact += decoder.weight * (decoder.drug_prior.numpy()[:, None] + decoder.mirna_prior.numpy()[None, :])
    bound = np.outer(norms[:p], norms[p:])
    distance = np.abs(stored - exact)
    print(f"{p} x {stored.shape[1]} scores, d = {z.shape[1]}, largest |score| {np.abs(exact).max():.3g}")
    print(f"largest |stored - exact|: {distance.max():.3g}, {(distance / bound).max():.3g} of |Z_i| |Z_j|, "
          f"{(distance / (SCORE_TOLERANCE * (bound + 1))).max():.2%} of the tolerance")
    for threads in (1, 2, 4):
        with torch_threads(threads):
            again = model.recomputed_scores()
        print(f"recomputed on {threads} thread(s): largest |stored - recomputed| {np.abs(stored - again).max():.3g}")


if __name__ == "__main__":
    main()
