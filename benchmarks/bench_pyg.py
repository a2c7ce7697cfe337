"""Our GCN encoder against PyTorch Geometric's ``GCNConv`` on one AMMGC modal of the benchmark.

One training step (forward, a loss on every node's embedding, backward) of a two-layer GCN with the
default widths (128, 256) and dropout 0.1, on one thread, for each implementation:

* ``ammgc``: ``ammgc.models.layers.GCNEncoder`` on the modal's feature blocks without their zero padding
  (``PaddedBlocks``) and the normalised adjacency built once per fold (dense below 4,096 nodes);
* ``pyg``: ``torch_geometric.nn.GCNConv`` x 2 on the padded feature matrix and the edge list, with the
  normalisation cached (``cached=True``, as one fold's graph never changes) and torch's dropout.

Prints the median seconds per step of each and their ratio. Needs ``pip install torch_geometric``; the
model does not. Example:

    python benchmarks/bench_pyg.py --steps 30 --modal 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ammgc import methods
from ammgc.data import load_dataset
from ammgc.evaluation.splits import PairSplit
from ammgc.models.graph import stack_modal
from ammgc.models.layers import GCNEncoder
from ammgc.models.training import adjacency_operator


def timed(step: object, steps: int) -> float:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])  # the first steps warm caches up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--modal", type=int, default=2, help="1-4: which (drug view x miRNA view) modal")
    args = parser.parse_args()
    from torch_geometric.nn import GCNConv

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = methods.get("ammgc")
    dataset = model.prepare(load_dataset())
    spec = model.modal_specs(dataset)[args.modal - 1]
    train = next(PairSplit(n_folds=5, repeats=1).split(dataset)).train.astype(np.float32)
    hidden = tuple(model.config.hidden)

    blocks = model.encoder_input(dataset, spec, torch.device("cpu"))
    ours = GCNEncoder(blocks.shape[1], hidden, dropout=0.1, input_dropout=0.1, seed=0)
    adjacency = adjacency_operator(train, torch.device("cpu"))

    def ours_step() -> None:
        ours.zero_grad()
        ours(blocks, adjacency).square().mean().backward()

    features = torch.from_numpy(stack_modal(*model._modal_blocks(dataset, spec)))
    p = train.shape[0]
    drugs, mirnas = np.nonzero(train)
    edges = torch.from_numpy(np.stack([np.concatenate([drugs, p + mirnas]), np.concatenate([p + mirnas, drugs])]))
    convs = torch.nn.ModuleList([GCNConv(features.shape[1], hidden[0], cached=True, bias=False),
                                 GCNConv(hidden[0], hidden[1], cached=True, bias=False)])

    def pyg_step() -> None:
        convs.zero_grad()
        h = torch.nn.functional.dropout(features, 0.1, training=True)
        h = torch.relu(convs[0](h, edges))
        h = convs[1](torch.nn.functional.dropout(h, 0.1, training=True), edges)
        h.square().mean().backward()

    ours_s, pyg_s = timed(ours_step, args.steps), timed(pyg_step, args.steps)
    print(f"modal {args.modal} ({spec.name}: {'+'.join(spec.drug_views)} x {'+'.join(spec.mirna_views)}), "
          f"{features.shape[0]} nodes, {features.shape[1]} features, hidden {hidden}, 1 thread, "
          f"median of {args.steps - 2} steps")
    print(f"| implementation | s per step | relative |\n|---|---|---|\n| ammgc GCNEncoder | {ours_s:.4f} | 1.00 |\n"
          f"| PyG GCNConv (cached) | {pyg_s:.4f} | {pyg_s / ours_s:.2f} |")


if __name__ == "__main__":
    main()
