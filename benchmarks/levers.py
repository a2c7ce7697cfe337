"""What else was tried to win the honest protocols (issue "win them"), on the outer folds, as an ablation.

These numbers are read on test folds, so none of them chooses a default (``ammgc tune`` does that, on
inner splits); they say which levers are worth taking to the tuner. The experiments:

* ``views``: the default AMMGC with a target-based miRNA functional-similarity view (TargetScan or
  miRWalk networks of SimNetRLMDA, family-level names mapped onto the benchmark's precursors) beside or
  instead of the miRBase ``sequence`` view (``ammgc.data.TargetNetworks``: ``--side DIR`` with ``miRNANetS.txt``
  and ``miRNANetW.txt``, else ``AMMGC_SIDE``, else the cache, downloaded on first use; no licence, so never
  shipped; verified by their git blob SHA-1).
  Also miRBase's genomic clusters and families (``--gff3``, miRBase's ``hsa.gff3``) as a miRNA view.
* ``blends``: on the same folds, the default AMMGC's scores against ranking by publication counts
  (``popularity-studies``), rank-level blends of the two, AMMGC plus a stronger publication prior,
  AMMGC's pair-specific part (its scores double-centred: drug and miRNA main effects removed) plus the
  publication prior, AMMGC's embeddings with a per-node bias learned by logistic regression instead of the
  fixed prior, rank-level blends with GCMDR, and the mean of three seeds' scores (an ensemble).
* ``edges``: against study memorisation, the default AMMGC whose graph convolution weighs each training
  edge by n^-alpha, n the number of training pairs its first publication reported (one high-throughput
  study then counts like a few small ones). This experiment swaps the model's normalised adjacency for the
  weighted one (``adjacency_operator``); it is not an option of the model, since it did not win.
* ``losses``: the training objective. A pairwise ranking loss (BPR: -log sigmoid(s_pos - s_neg), each
  training positive against one negative made by replacing its miRNA, or its drug or miRNA at random) in
  both of AMMGC's stages instead of BCE; and hard negatives, drawn with probability proportional to
  (1 + activity)^alpha of their drug and miRNA instead of uniformly. Swapped in for the experiment
  (``NegativeSampler.negatives`` and the loss); not options of the model, since they did not win.
* ``recency``: ranking by publication counts where each training publication counts exp(-age / tau),
  age = how many training publications came after it (first-report order), tau a fraction of their
  number: whether the studies a later study follows are the recent ones; the prior alone, and as AMMGC's
  activity prior (swapped in for ``node_activity``).

    python benchmarks/levers.py views --gff3 hsa.gff3 --split study --repeats 2
    python benchmarks/levers.py blends --split time
    python benchmarks/levers.py edges --split study --repeats 2
    python benchmarks/levers.py losses --split time
    python benchmarks/levers.py recency --split time
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import torch
from scipy.stats import rankdata

import ammgc.models.ammgc as ammgc_model
import ammgc.models.training as training_model
from ammgc import methods
from ammgc.data import TargetNetworks, load_dataset
from ammgc.data.dataset import FeatureView
from ammgc.data.networks import precursor_keys
from ammgc.data.publications import node_activity
from ammgc.evaluation.metrics import evaluate_scores
from ammgc.evaluation.runner import cross_validate, fold_seed
from ammgc.evaluation.splits import Fold, splitter
from ammgc.models.graph import bipartite_adjacency
from ammgc.models.layers import as_operator
from ammgc.models.sampling import NegativeSampler

SHOWN = ("ap", "auc", "drug_ap", "prec_at_100")


def genome_view(names: list[str], gff3: Path) -> FeatureView:
    """miRBase's genomic clusters and families as a miRNA view: one column per cluster (stem-loops on one
    chromosome strand within 10 kb of each other) and per family (the name without copy number and letter,
    hsa-mir-29b-1 -> mir-29), 1 where the miRNA belongs; miRNAs not in the file get the mean row."""
    loci = []
    for line in gff3.read_text().splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) < 9 or cells[2] != "miRNA_primary_transcript":
            continue
        name = dict(kv.split("=", 1) for kv in cells[8].split(";") if "=" in kv)["Name"].lower()
        loci.append((cells[0], cells[6], int(cells[3]), int(cells[4]), name))
    cluster_of: dict[str, int] = {}
    previous, cluster = None, -1
    for chrom, strand, start, end, name in sorted(loci):
        if previous is None or previous[:2] != (chrom, strand) or start - previous[2] > 10_000:
            cluster += 1
        cluster_of[name] = cluster
        previous = (chrom, strand, end)

    def family(name: str) -> str:
        return re.sub(r"^hsa-(mir|let)-(\d+)[a-z]*(-\d+)?$", r"\1-\2", name)

    families = sorted({family(n) for n in cluster_of})
    column = {("cluster", c): k for k, c in enumerate(sorted(set(cluster_of.values())))}
    column |= {("family", f): len(column) + k for k, f in enumerate(families)}
    rows = np.zeros((len(names), len(column)))
    mapped = np.zeros(len(names), dtype=bool)
    for r, name in enumerate(names):
        key = next((k for k in precursor_keys(name) if k in cluster_of), None)
        if key is not None:
            rows[r, column[("cluster", cluster_of[key])]] = rows[r, column[("family", family(key))]] = 1.0
            mapped[r] = True
    rows[~mapped] = rows[mapped].mean(axis=0)
    print(f"genome: {mapped.sum()} of {len(names)} benchmark miRNAs placed in {cluster + 1} clusters and "
          f"{len(families)} families")
    return FeatureView("genome", "mirna", rows, source=str(gff3), note=f"{mapped.sum()}/{len(names)} placed")


def _line(label: str, values: np.ndarray) -> str:
    mean, se = values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(len(values))
    return f"| {label} | " + " | ".join(f"{m:.4f} ± {e:.4f}" for m, e in zip(mean, se, strict=True)) + " |"


def views(dataset: object, side: Path | None, gff3: Path, split: str, repeats: int, jobs: int) -> None:
    targets = TargetNetworks(side).load(dataset.mirna_names)
    for view in targets:
        print(f"{view.name}: {view.note}")
    dataset = dataset.with_views(*targets, genome_view(dataset.mirna_names, gff3))
    print(f"\n| miRNA views ({split}) | " + " | ".join(SHOWN) + " |\n|---|" + "---|" * len(SHOWN))
    for mirna_views in (["expression", "go"], ["expression", "targets_s"], ["expression", "go", "targets_s"],
                        ["expression", "targets_w"], ["expression", "genome"], ["expression", "go", "genome"]):
        result = cross_validate(methods.get("ammgc", mirna_views=mirna_views), dataset,
                                splitter(split, n_folds=5, repeats=repeats, seed=0), jobs=jobs)
        print(_line(" + ".join(mirna_views), np.array([[f[m] for m in SHOWN] for f in result.folds])), flush=True)


def _folds(dataset: object, split: str, repeats: int) -> list[Fold]:
    """The outer folds every experiment reads: 5 folds (study: ``repeats`` times; time: one per cut-off), seed 0."""
    return list(splitter(split, n_folds=5, repeats=repeats, seed=0).split(dataset))


def _fold_metrics(fold: Fold, scores: np.ndarray) -> list[float]:
    metrics = evaluate_scores(fold.labels, scores[fold.candidates[:, 0], fold.candidates[:, 1]],
                              drugs=fold.candidates[:, 0])
    return [metrics[m] for m in SHOWN]


def _ammgc_scores(dataset: object, fold: Fold, offset: int = 0) -> np.ndarray:
    """The default AMMGC trained on the fold with the fold's seed (plus ``offset``), its p x q scores."""
    seed = fold_seed(0, fold.repeat, fold.fold) + offset
    return methods.get("ammgc").fit(dataset, fold.train, seed=seed).predict_scores()


def _default_ammgc(dataset: object, split: str, repeats: int, patches: list[object]) -> np.ndarray:
    """The default AMMGC's metrics on every outer fold, trained with ``patches`` (mock patches) in force."""
    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        return np.array([_fold_metrics(fold, _ammgc_scores(dataset, fold)) for fold in _folds(dataset, split, repeats)])


def _percentile(scores: np.ndarray) -> np.ndarray:
    return rankdata(scores.ravel()).reshape(scores.shape) / scores.size


def _learned_bias(offset: np.ndarray, train: np.ndarray, steps: int = 300) -> np.ndarray:
    """b_i + c_j fitted by logistic regression on every training pair (1 known, 0 not), with the embedding
    term as a fixed offset: a per-node bias learned from the data instead of the fixed log-activity prior."""
    x = torch.from_numpy(offset)
    y = torch.from_numpy(np.asarray(train, dtype=np.float64))
    b = torch.zeros(x.shape[0], 1, dtype=torch.float64, requires_grad=True)
    c = torch.zeros(1, x.shape[1], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([b, c], lr=0.1)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x + b + c, y)
        loss.backward()
        optimiser.step()
    return (b + c).detach().numpy()


def blends(dataset: object, split: str, repeats: int) -> None:
    dataset = methods.get("gcmdr").prepare(methods.get("ammgc").prepare(dataset))
    rows: dict[str, list[list[float]]] = {}
    for fold in _folds(dataset, split, repeats):
        ammgc = _ammgc_scores(dataset, fold)
        drug, mirna, _ = node_activity(fold.train, dataset.publications, "studies")
        prior = np.log1p(drug)[:, None] + np.log1p(mirna)[None, :]
        centred = ammgc - ammgc.mean(axis=1, keepdims=True) - ammgc.mean(axis=0, keepdims=True) + ammgc.mean()
        variants = {"AMMGC default": ammgc, "popularity-studies": prior}
        variants |= {f"rank blend, AMMGC weight {w}": w * _percentile(ammgc) + (1 - w) * _percentile(prior)
                     for w in (0.25, 0.5, 0.75)}
        variants |= {f"AMMGC + {lam} x prior": ammgc + lam * prior for lam in (2, 4, 8, 16)}
        variants |= {f"centred AMMGC + {lam} x prior": centred + lam * prior for lam in (1, 2, 4, 8)}
        embedding = ammgc - methods.get("ammgc").config.degree_prior * prior
        variants["AMMGC embeddings + learned per-node bias"] = embedding + _learned_bias(embedding, fold.train)
        seed = fold_seed(0, fold.repeat, fold.fold)
        gcmdr = methods.get("gcmdr").fit(dataset, fold.train, seed=seed).predict_scores()
        variants |= {f"rank blend with GCMDR, AMMGC weight {w}": w * _percentile(ammgc) + (1 - w) * _percentile(gcmdr)
                     for w in (0.5, 0.75)}
        variants["mean of 3 seeds' AMMGC scores"] = np.mean(
            [ammgc, *(_ammgc_scores(dataset, fold, 10_000 * k) for k in (1, 2))], axis=0)
        for label, scores in variants.items():
            rows.setdefault(label, []).append(_fold_metrics(fold, scores))
    print(f"\n| scores ({split}, mean ± SE over folds) | " + " | ".join(SHOWN) + " |\n|---|" + "---|" * len(SHOWN))
    for label, values in rows.items():
        print(_line(label, np.array(values)), flush=True)


def _study_weighted_adjacency(dataset: object, alpha: float) -> object:
    """``adjacency_operator`` with each edge weighted by n^-alpha, n its first publication's training pairs."""
    def operator(train: np.ndarray, device: torch.device) -> torch.Tensor:
        known = dataset.publications.restricted_to(train)
        sizes = known.group_sizes()
        weights = np.zeros(train.shape, dtype=np.float32)
        for (d, m), group, k in zip(known.pairs, known.group, known.known, strict=True):
            weights[d, m] = (sizes[str(group)] if k else 1) ** -alpha
        a_tilde = bipartite_adjacency(weights) + np.eye(sum(train.shape), dtype=np.float32)
        d_inv_sqrt = 1.0 / np.sqrt(a_tilde.sum(axis=1))
        return as_operator(torch.from_numpy(a_tilde * d_inv_sqrt[:, None] * d_inv_sqrt[None, :]).to(device))
    return operator


def edges(dataset: object, split: str, repeats: int) -> None:
    dataset = methods.get("ammgc").prepare(dataset)
    print(f"\n| edge weight n^-alpha ({split}, mean ± SE over folds) | " + " | ".join(SHOWN) + " |\n|---|"
          + "---|" * len(SHOWN))
    for alpha in (0.0, 0.5, 1.0):
        rows = _default_ammgc(dataset, split, repeats, [mock.patch.object(
            ammgc_model, "adjacency_operator", _study_weighted_adjacency(dataset, alpha))])
        print(_line(f"alpha {alpha}" + (" (the default: unweighted)" if alpha == 0 else ""), rows), flush=True)


def _training_zeros_only(sampler: NegativeSampler, slots: int,
                         draw: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``draw(slots)`` flat pairs for the given slots, drawn again wherever one is a training positive (as the
    model's own sampler, negatives come from the training matrix's zeros only)."""
    known = torch.zeros(sampler.shape[0] * sampler.shape[1], dtype=torch.bool)
    known[sampler.positives] = True
    picks = draw(torch.arange(slots))
    while bool((again := torch.nonzero(known[picks]).squeeze(1)).numel()):
        picks[again] = draw(again)
    return picks


def _matched_negatives(side: str) -> Callable[[NegativeSampler], torch.Tensor]:
    """Each positive with its miRNA (``side`` "mirna"), or at random its drug or miRNA ("either"), replaced by
    a uniformly drawn one that makes a training zero: the negatives of a pairwise loss, in the positives'
    order."""
    def negatives(self: NegativeSampler) -> torch.Tensor:
        p, q = self.shape
        drug, mirna = self.positives // q, self.positives % q

        def draw(slots: torch.Tensor) -> torch.Tensor:
            n = len(slots)
            swap_drug = (torch.randint(2, (n,), generator=self.generator).bool() if side == "either"
                         else torch.zeros(n, dtype=torch.bool))
            other_mirna = torch.randint(q, (n,), generator=self.generator)
            other_drug = torch.randint(p, (n,), generator=self.generator)
            return torch.where(swap_drug, other_drug * q + mirna[slots], drug[slots] * q + other_mirna)
        return _training_zeros_only(self, len(self.positives), draw)
    return negatives


def _bpr_loss(logits: torch.Tensor, labels: torch.Tensor, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """-log sigmoid(positive - its negative), averaged: the logits are the positives, then one negative each."""
    n = len(logits) // 2
    return torch.nn.functional.softplus(logits[n:] - logits[:n]).mean()


def _hard_negatives(alpha: float) -> Callable[[NegativeSampler], torch.Tensor]:
    """Training zeros drawn with probability proportional to ((1 + drug degree)(1 + miRNA degree))^alpha."""
    def negatives(self: NegativeSampler) -> torch.Tensor:
        p, q = self.shape
        degree = torch.zeros(p * q)
        degree[self.positives] = 1.0
        degree = degree.reshape(p, q)
        drug_weight, mirna_weight = (1 + degree.sum(1)) ** alpha, (1 + degree.sum(0)) ** alpha

        def draw(slots: torch.Tensor) -> torch.Tensor:
            n = len(slots)
            drug = torch.multinomial(drug_weight, n, replacement=True, generator=self.generator)
            return drug * q + torch.multinomial(mirna_weight, n, replacement=True, generator=self.generator)
        return _training_zeros_only(self, self.n_neg, draw)
    return negatives


def losses(dataset: object, split: str, repeats: int) -> None:
    dataset = methods.get("ammgc").prepare(dataset)
    bpr = SimpleNamespace(binary_cross_entropy_with_logits=_bpr_loss)
    variants = {"BCE, uniform negatives (the default)": [],
                "BPR, negatives replace the miRNA": [mock.patch.object(NegativeSampler, "negatives",
                                                                       _matched_negatives("mirna")),
                                                     mock.patch.object(training_model, "F", bpr)],
                "BPR, negatives replace the drug or the miRNA": [
                    mock.patch.object(NegativeSampler, "negatives", _matched_negatives("either")),
                    mock.patch.object(training_model, "F", bpr)],
                **{f"BCE, hard negatives, alpha {a}": [mock.patch.object(NegativeSampler, "negatives",
                                                                         _hard_negatives(a))] for a in (0.5, 1.0)}}
    print(f"\n| training objective ({split}, mean ± SE over folds) | " + " | ".join(SHOWN) + " |\n|---|"
          + "---|" * len(SHOWN))
    for label, patches in variants.items():
        print(_line(label, _default_ammgc(dataset, split, repeats, patches)), flush=True)


def _recency_counts(publications: object, train: np.ndarray, tau: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per drug and miRNA, their training publications (first reports) each weighted exp(-age / (tau n)), n
    the number of training publications and age how many came after it; ``tau`` None: every one counts 1
    (``popularity-studies``). A pair with no known publication is a publication of its own, the oldest."""
    known = publications.restricted_to(train)
    labels = known.report_labels()
    order_key = dict(zip(labels, np.where(known.known, known.first_report, -1), strict=True))
    ranked = sorted(order_key, key=order_key.__getitem__)
    n = len(ranked)
    weight = {label: 1.0 if tau is None else float(np.exp(-(n - 1 - r) / (tau * n))) for r, label in enumerate(ranked)}
    p, q = train.shape
    drug, mirna = np.zeros(p), np.zeros(q)
    # each (node, publication) once, summed in a fixed order: a set's order follows string hashing, which differs
    # between processes and moved the sums in their last bit
    for d, label in sorted({(int(d), label) for (d, _), label in zip(known.pairs, labels, strict=True)}):
        drug[d] += weight[label]
    for m, label in sorted({(int(m), label) for (_, m), label in zip(known.pairs, labels, strict=True)}):
        mirna[m] += weight[label]
    return drug, mirna


def recency(dataset: object, split: str, repeats: int) -> None:
    dataset = methods.get("ammgc").prepare(dataset)
    rows: dict[str, list[list[float]]] = {}

    def decayed(tau: float):  # AMMGC's activity prior, counted as the decayed publications
        return lambda train, publications, counts: (*_recency_counts(publications, np.asarray(train), tau), "studies")

    for fold in _folds(dataset, split, repeats):
        variants = {}
        for tau in (None, 2.0, 1.0, 0.5, 0.25):
            drug, mirna = _recency_counts(dataset.publications, fold.train, tau)
            label = "popularity-studies (every publication counts 1)" if tau is None else f"tau {tau}"
            variants[label] = np.log1p(drug)[:, None] + np.log1p(mirna)[None, :]
        for tau in (2.0, 1.0):
            with mock.patch.object(ammgc_model, "node_activity", decayed(tau)):
                variants[f"AMMGC default, its prior decayed with tau {tau}"] = _ammgc_scores(dataset, fold)
        for label, scores in variants.items():
            rows.setdefault(label, []).append(_fold_metrics(fold, scores))
    print(f"\n| publication counts decayed by age ({split}, mean ± SE over folds) | " + " | ".join(SHOWN)
          + " |\n|---|" + "---|" * len(SHOWN))
    for label, values in rows.items():
        print(_line(label, np.array(values)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=["views", "blends", "edges", "losses", "recency"])
    parser.add_argument("--split", default="study", choices=["study", "time"])
    parser.add_argument("--repeats", type=int, default=2, help="study split: repeats of 5 folds")
    parser.add_argument("--side", type=Path, help="folder with miRNANetS.txt and miRNANetW.txt (views; default: "
                                                  "AMMGC_SIDE, else the cache, downloaded and verified)")
    parser.add_argument("--gff3", type=Path, help="miRBase's human genome coordinates, hsa.gff3 (views)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    dataset = load_dataset().with_publications()
    repeats = args.repeats if args.split == "study" else 1
    if args.experiment == "views":
        if args.gff3 is None:
            parser.error("views needs --gff3 FILE")
        views(dataset, args.side, args.gff3, args.split, repeats, args.jobs)
    elif args.experiment == "blends":
        blends(dataset, args.split, repeats)
    elif args.experiment == "losses":
        losses(dataset, args.split, repeats)
    elif args.experiment == "recency":
        recency(dataset, args.split, repeats)
    else:
        edges(dataset, args.split, repeats)


if __name__ == "__main__":
    main()
