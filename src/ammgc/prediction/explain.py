"""Why a pair was predicted: how much of its score is activity (popularity) and which known facts support it.

AMMGC's score of (drug i, miRNA j) is exactly the sum of two parts:

- the **activity prior** ``degree_prior * (log(1 + a_i) + log(1 + a_j))``, where a counts the node's
  training publications (or pairs): what a popularity ranking would say;
- the **embedding term** ``Z_i . Z_{p+j}`` of the fused embeddings: what the graph and the features add.

The evidence lists the known associations a scientist can check, found by feature similarity (not by the
model's internals, so it can be read without trusting the model): the miRNAs already linked to drug i
that are most similar to miRNA j, and the drugs already linked to miRNA j that are most similar to drug
i, each with the view it comes from and the similarity of the two rows of that view: the cosine of
the rows after subtracting the view's mean row, so that what every row shares (most miRNAs' sequence
profiles look alike) does not make everything similar; only partners more alike than that (similarity
above 0) count as evidence. Rows that carry no information are left out:
rows that are the mean of the others (the benchmark imputed 540 of 754 expression rows that way) and
all-zero rows. The features behind an evidence item are the ones the model was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.models.ammgc import AMMGC
from ammgc.prediction.new_entities import Extended, check_dataset

#: What each view is, in words, for an evidence line.
VIEW_KINDS = {"fingerprint": "fingerprint", "fingerprint_smiles": "fingerprint", "smiles_code": "SMILES code",
              "smiles_code_smiles": "SMILES code", "expression": "expression", "sequence": "sequence",
              "go": "GO function"}


@dataclass(frozen=True)
class Evidence:
    """One known association that supports a prediction."""

    side: str  # "mirna": a miRNA linked to the drug; "drug": a drug linked to the miRNA
    name: str
    view: str
    similarity: float

    def text(self) -> str:
        partner = "miRNA" if self.side == "mirna" else "drug"
        return f"{partner} {self.name} ({VIEW_KINDS.get(self.view, self.view)} {self.similarity:.2f})"


@dataclass(frozen=True)
class Explanation:
    drug: str
    mirna: str
    score: float
    embedding_term: float
    prior_term: float
    drug_activity: float
    mirna_activity: float
    prior_counts: str
    known: bool
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def prior_share(self) -> float:
        """The prior's share of the score's magnitude, |prior| / (|prior| + |embedding|)."""
        total = abs(self.prior_term) + abs(self.embedding_term)
        return abs(self.prior_term) / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"drug": self.drug, "mirna": self.mirna, "score": self.score, "known": self.known,
                "embedding_term": self.embedding_term, "prior_term": self.prior_term,
                "prior_share": self.prior_share, "drug_activity": self.drug_activity,
                "mirna_activity": self.mirna_activity, "prior_counts": self.prior_counts,
                "evidence": [{"side": e.side, "name": e.name, "view": e.view, "similarity": e.similarity}
                             for e in self.evidence]}


def _unit(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(centred, axis=-1, keepdims=True)
    return np.divide(centred, norms, out=np.zeros_like(centred, dtype=np.float64), where=norms > 0), norms[..., 0] > 0


@dataclass(frozen=True)
class _View:
    """A view's rows as evidence reads them: minus the informative rows' mean, at unit length."""

    mean: np.ndarray
    units: np.ndarray
    informative: np.ndarray

    @classmethod
    def of(cls, matrix: np.ndarray) -> _View:
        from ammgc.data.validation import find_mean_imputed_rows

        informative = matrix.any(axis=1) & ~find_mean_imputed_rows(matrix)
        mean = matrix[informative].mean(axis=0) if informative.any() else np.zeros(matrix.shape[1])
        units, nonzero = _unit(matrix - mean)
        return cls(mean, units, informative & nonzero)

    def similarities(self, row: np.ndarray) -> np.ndarray:
        """Similarity of a row (a new entity's) to every known row; 0 where either carries no information."""
        unit, _ = _unit(np.asarray(row, dtype=np.float64) - self.mean)
        return np.where(self.informative, self.units @ unit, 0.0)


class Explainer:
    """Explanations of a trained model's pairs, with the training dataset's views as evidence.

    With ``extended`` (``ammgc.prediction.new_entities.extend``), pairs of new drugs and miRNAs are explained too: their
    indices follow the known ones, as in ``extended.dataset``; a new entity has activity 0 and no known
    partner, so its evidence is on the other side alone (known partners of the other entity that are
    similar to it).
    """

    def __init__(self, model: AMMGC, dataset: Dataset, extended: Extended | None = None) -> None:
        check_dataset(model, dataset)
        missing = [v for v in (*model.drug_views, *model.mirna_views) if v not in dataset.views]
        if missing:
            raise AmmgcError(f"the dataset lacks the view(s) {missing} the model was trained with")
        self.model, self.dataset, self.extended = model, dataset, extended
        self._views = {v: _View.of(np.asarray(dataset.view(v).matrix, dtype=np.float64))
                       for v in (*model.drug_views, *model.mirna_views)}
        if extended is not None:
            self._drug_z, self._mirna_z = extended.drug_z, extended.mirna_z
        else:
            fused = model.fused(model.embeddings_)
            self._drug_z, self._mirna_z = fused[:model.n_drugs_], fused[model.n_drugs_:]

    @property
    def drug_names(self) -> list[str]:
        return list((self.extended.dataset if self.extended is not None else self.dataset).drug_names)

    @property
    def mirna_names(self) -> list[str]:
        return list((self.extended.dataset if self.extended is not None else self.dataset).mirna_names)

    def explain(self, drug: int, mirna: int, *, top: int = 3) -> Explanation:
        model, p, q = self.model, self.model.n_drugs_, self.model.n_mirnas_
        embedding = float(np.dot(self._drug_z[drug].astype(np.float64), self._mirna_z[mirna].astype(np.float64)))
        drug_log = float(model.drug_prior_[drug]) if drug < p else 0.0
        mirna_log = float(model.mirna_prior_[mirna]) if mirna < q else 0.0
        known = drug < p and mirna < q
        score = float(model.predict_scores()[drug, mirna]) if known else float(self.extended.scores[drug, mirna])
        return Explanation(
            drug=self.drug_names[drug], mirna=self.mirna_names[mirna], score=score, embedding_term=embedding,
            prior_term=float(model.config.degree_prior) * (drug_log + mirna_log),
            drug_activity=float(np.expm1(drug_log)), mirna_activity=float(np.expm1(mirna_log)),
            prior_counts=str(model.prior_counts_),
            known=known and bool(self.dataset.associations[drug, mirna]),
            evidence=self.evidence(drug, mirna, top=top))

    def _similarities(self, view: str, index: int, known: int, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Similarity of entity ``index`` (known, or new: row ``index - known`` of ``rows``) to every known
        row of ``view``; 0 where either carries no information."""
        table = self._views[view]
        if index < known:
            return np.where(table.informative & table.informative[index], table.units @ table.units[index], 0.0)
        return table.similarities(rows[view][index - known])

    def evidence(self, drug: int, mirna: int, *, top: int = 3) -> list[Evidence]:
        """The ``top`` most similar known partners on each side, across the model's views."""
        a, p, q = self.dataset.associations, self.model.n_drugs_, self.model.n_mirnas_
        new_drug_rows = self.extended.drug_rows if self.extended is not None else {}
        new_mirna_rows = self.extended.mirna_rows if self.extended is not None else {}
        items: list[Evidence] = []
        linked_mirnas = [j for j in np.flatnonzero(a[drug]) if j != mirna] if drug < p else []
        linked_drugs = [i for i in np.flatnonzero(a[:, mirna]) if i != drug] if mirna < q else []
        for side, views, anchor, known, rows, partners, names in (
                ("mirna", self.model.mirna_views, mirna, q, new_mirna_rows, linked_mirnas,
                 self.dataset.mirna_names),
                ("drug", self.model.drug_views, drug, p, new_drug_rows, linked_drugs, self.dataset.drug_names)):
            best: dict[int, Evidence] = {}
            for view in views:
                similarity = self._similarities(view, anchor, known, rows)
                for k in partners:
                    if similarity[k] <= 0:
                        continue  # no more alike than an average row: not evidence
                    if k not in best or similarity[k] > best[k].similarity:
                        best[int(k)] = Evidence(side, names[k], view, float(similarity[k]))
            items += sorted(best.values(), key=lambda e: -e.similarity)[:top]
        return items

    def nearest(self, side: str, rows: dict[str, np.ndarray], *, top: int = 3) -> list[Evidence]:
        """The known drugs (``side="drug"``) or miRNAs most similar to a new one, given its view rows."""
        views = self.model.drug_views if side == "drug" else self.model.mirna_views
        names = self.dataset.drug_names if side == "drug" else self.dataset.mirna_names
        best: dict[int, Evidence] = {}
        for view in views:
            similarities = self._views[view].similarities(rows[view])
            for k in np.flatnonzero(similarities > 0):
                similarity = float(similarities[k])
                if k not in best or similarity > best[k].similarity:
                    best[int(k)] = Evidence(side, names[k], view, similarity)
        return sorted(best.values(), key=lambda e: -e.similarity)[:top]


def evidence_column(explainer: Explainer, table: Any, *, top: int = 3) -> list[str]:
    """The ``evidence`` column of a ranking: the ``top`` most similar known partners of each row's pair
    (either side); for a new drug or miRNA, the other entity's known partners most similar to it (empty when
    the explainer was built without the new entities)."""
    p, q = explainer.model.n_drugs_, explainer.model.n_mirnas_
    out = []
    for d, m in zip(table["drug_index"], table["mirna_index"], strict=True):
        if (d >= p or m >= q) and explainer.extended is None:
            out.append("")
            continue
        items = sorted(explainer.evidence(int(d), int(m), top=top), key=lambda e: -e.similarity)[:top]
        out.append("; ".join(e.text() for e in items))
    return out


def explanation_text(e: Explanation) -> str:
    """A short report of one explanation for the terminal."""
    lines = [f"{e.drug} x {e.mirna}: score {e.score:.4f} ({'a known association' if e.known else 'not known'})",
             f"  activity prior  {e.prior_term:+.4f}  ({e.prior_share:.0%} of the score's size; "
             f"{e.drug_activity:g} and {e.mirna_activity:g} {_counted(e.prior_counts)})",
             f"  embeddings      {e.embedding_term:+.4f}  (graph and features)"]
    for side, title in (("mirna", f"miRNAs already linked to {e.drug}, most similar to {e.mirna}"),
                        ("drug", f"drugs already linked to {e.mirna}, most similar to {e.drug}")):
        found = [x for x in e.evidence if x.side == side]
        lines.append(f"  {title}:" + ("" if found else " none"))
        lines += [f"    {x.name:<28} {VIEW_KINDS.get(x.view, x.view):<12} similarity {x.similarity:.3f}"
                  for x in found]
    return "\n".join(lines)


def _counted(counts: str) -> str:
    return {"studies": "publications", "mixed": "(geometric mean of pairs and publications)"}.get(
        counts, "known pairs")


#: Above this rank correlation with the partners' activity, a new entity's ranking is called popularity.
POPULARITY_RHO = 0.9
#: A sequence this dominated by one base, or with this few distinct dinucleotides, carries no information.
MAX_BASE_SHARE = 0.6
MIN_DINUCLEOTIDES = 6
MIN_HEAVY_ATOMS = 6


def sequence_warnings(sequence: str) -> list[str]:
    """Why a miRNA sequence's features would carry no information, if they would not."""
    seq = "".join(sequence.split()).upper().replace("T", "U")
    problems = []
    if seq:
        base, count = max(((b, seq.count(b)) for b in set(seq)), key=lambda t: t[1])
        if count / len(seq) > MAX_BASE_SHARE:
            problems.append(f"low-complexity sequence ({base} {count / len(seq):.0%})")
        elif len({seq[i:i + 2] for i in range(len(seq) - 1)}) < MIN_DINUCLEOTIDES:
            problems.append("low-complexity sequence (few distinct dinucleotides)")
    if not 16 <= len(seq) <= 200:
        problems.append(f"implausible length for a miRNA ({len(seq)} nt; mature 18-25, stem-loops 50-200)")
    return problems


def smiles_warnings(smiles: str) -> list[str]:
    """Why a drug's SMILES would describe something other than one drug-sized molecule, if it would."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return ["SMILES does not parse"]
    fragments = Chem.GetMolFrags(mol, asMols=True)
    problems = []
    if len(fragments) > 1:
        problems.append(f"a salt or mixture ({len(fragments)} fragments): its fingerprint mixes them")
    heavy = max(f.GetNumHeavyAtoms() for f in fragments)
    if heavy < MIN_HEAVY_ATOMS:
        problems.append(f"a small fragment ({heavy} heavy atoms): its fingerprint carries little")
    return problems


#: Below this similarity to every known entity in every view, a new entity's features place it nowhere.
NEIGHBOUR_FLOOR = 0.3


def new_entity_notes(extended: Any, model: Any, neighbours: dict[tuple[str, int], list[Evidence]] | None = None
                     ) -> list[str]:
    """For each new drug and miRNA: how far its ranking departs from ranking its partners by activity
    (Spearman correlation with the partners' log activity), its nearest known drugs / miRNAs where
    ``neighbours`` gives them ({("drug" or "miRNA", index): evidence}), and warnings where its features
    carry no information; then the ranking is popularity, and the note says so."""
    from scipy.stats import spearmanr

    p, q = model.n_drugs_, model.n_mirnas_
    notes = []
    entities = [("drug", i, extended.scores[i, :q], model.mirna_prior_, "miRNAs",
                 smiles_warnings(str(extended.dataset.drugs["smiles"].iloc[i]))) for i in extended.new_drugs]
    entities += [("miRNA", j, extended.scores[:p, j], model.drug_prior_, "drugs",
                  sequence_warnings(str(extended.dataset.mirnas["sequence"].iloc[j]))) for j in extended.new_mirnas]
    for what, index, scores, activity, partners, problems in entities:
        name = (extended.dataset.drug_names[index] if what == "drug" else extended.dataset.mirna_names[index])
        rho = float(spearmanr(scores, activity).statistic) if np.ptp(activity) > 0 else float("nan")
        verdict = ("its ranking is essentially the popularity ranking" if rho > POPULARITY_RHO
                   else "its features reorder the popularity ranking")
        notes.append(f"new {what} {name}: Spearman {rho:.2f} between its scores and the {partners}' activity: "
                     f"{verdict}")
        if neighbours is not None and (what, index) in neighbours:
            near = neighbours[(what, index)]
            if near:
                notes.append(f"new {what} {name}: nearest known {what}s " + ", ".join(
                    f"{e.name} ({VIEW_KINDS.get(e.view, e.view)} {e.similarity:.2f})" for e in near))
            if not near or near[0].similarity < NEIGHBOUR_FLOOR:
                problems = [*problems, f"no known {what} more similar than {NEIGHBOUR_FLOOR} in any view"]
        for problem in problems:
            notes.append(f"warning: new {what} {name}: {problem}; its prediction is the popularity ranking, "
                         f"not evidence about this {what}")
    return notes
