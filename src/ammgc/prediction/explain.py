"""Why a pair was predicted: how much of its score is activity (popularity) and which known facts support it.

AMMGC's score of (drug i, miRNA j) is exactly the sum of two parts:

- the **activity prior** ``degree_prior * (log(1 + a_i) + log(1 + a_j))``, where a counts the node's
  training publications (or pairs): what a popularity ranking would say;
- the **embedding term** ``Z_i . Z_{p+j}`` of the fused embeddings: what the graph and the features add.

The evidence lists the known associations a scientist can check, found by feature similarity (not by the
model's internals, so it can be read without trusting the model): the miRNAs already linked to drug i
that are most similar to miRNA j, and the drugs already linked to miRNA j that are most similar to drug
i, each with the view it comes from, the similarity of the two rows of that view, and the PubMed ids of
the cited association where the dataset has its publications. The features behind an evidence item are
the ones the model was trained with.

Only rows that carry information are compared (``carries_information``): a fingerprint with at least
``MIN_FINGERPRINT_BITS`` substructure bits, a profile (expression, sequence, GO) non-zero in at least
``MIN_PROFILE_SHARE`` of its columns (and ``MIN_PROFILE_VALUES``), a SMILES code of at least
``MIN_SMILES_CHARACTERS`` characters, and never a row that is imputed (the mean of the others, as the
benchmark filled 540 of 754 expression rows; the mean row a new miRNA gets for a view its sequence cannot
give) or all zero. The measure suits the view: fingerprints by Tanimoto (shared bits over bits set in
either, on the bits that vary between drugs), SMILES codes by the share of positions holding the same
character, expression profiles by the cosine of the rows as they are (alike when measured in the same
samples in like proportions), the dense similarity profiles (sequence, GO) by the cosine of the rows after
subtracting the view's mean row, so that what every row shares does not make everything similar. Only
partners more alike than an average pair of known rows count (above the view's mean similarity between
known rows; above 0 for centred profiles). When no linked partner passes, the evidence says there is no
informative neighbour instead of citing one.
"""

from __future__ import annotations

import dataclasses
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
#: Views compared by Tanimoto (substructure bits), by the share of identical characters (SMILES codes) and by
#: the cosine of the rows as they are (expression: sparse profiles, alike when measured in the same samples);
#: every other view is a dense similarity profile (sequence, GO), compared by the cosine of mean-centred rows
#: so that what every row shares does not make everything alike.
TANIMOTO_VIEWS = frozenset({"fingerprint", "fingerprint_smiles"})
CHARACTER_VIEWS = frozenset({"smiles_code", "smiles_code_smiles"})
COSINE_VIEWS = frozenset({"expression"})
#: A fingerprint with fewer substructure bits describes a few atoms by little more than their element counts
#: (hydrogen peroxide sets 4 of PubChem's 881 bits, cisplatin 7): it is alike to any other small molecule.
MIN_FINGERPRINT_BITS = 10
#: A profile non-zero in fewer than this share of its columns (9 of the benchmark's 172 expression samples),
#: or in fewer than MIN_PROFILE_VALUES, says mostly where the miRNA was not measured: one or two shared samples
#: make two such rows look alike (after centring, cosine up to 0.98 between the benchmark's rows with 1-2
#: non-zero values of 172).
MIN_PROFILE_SHARE = 0.05
MIN_PROFILE_VALUES = 3
#: A SMILES code of fewer characters (hydrogen peroxide's "OO") is a molecule of a few atoms.
MIN_SMILES_CHARACTERS = 6
#: Reports shown per evidence line (the JSON lists all of them).
SHOWN_REFERENCES = 3
NO_NEIGHBOUR = "no informative neighbour"


@dataclass(frozen=True)
class Evidence:
    """One known association that supports a prediction, with its reports where the dataset has them."""

    side: str  # "mirna": a miRNA linked to the drug; "drug": a drug linked to the miRNA
    name: str
    view: str
    similarity: float
    references: tuple[str, ...] = ()  # the cited association's reports (PubMed ids where ``pubmed``)
    pubmed: bool = True

    def reports(self) -> str:
        """The reports as text, e.g. ``PMID 18350132, 19956872 +3 more`` ("" when none are known)."""
        if not self.references:
            return ""
        shown = ", ".join(self.references[:SHOWN_REFERENCES])
        more = len(self.references) - SHOWN_REFERENCES
        return ("PMID " if self.pubmed else "reported in ") + shown + (f" +{more} more" if more > 0 else "")

    def text(self) -> str:
        partner = "miRNA" if self.side == "mirna" else "drug"
        reports = f"; {self.reports()}" if self.references else ""
        return f"{partner} {self.name} ({VIEW_KINDS.get(self.view, self.view)} {self.similarity:.2f}{reports})"

    def as_dict(self) -> dict[str, Any]:
        return {"side": self.side, "name": self.name, "view": self.view, "similarity": self.similarity,
                "references": list(self.references), "reference_kind": "pmid" if self.pubmed else "source"}


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
    # known partners the evidence was sought among: miRNAs linked to the drug, drugs linked to the miRNA
    linked_mirnas: int = 0
    linked_drugs: int = 0

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
                "linked_mirnas": self.linked_mirnas, "linked_drugs": self.linked_drugs,
                "evidence": [e.as_dict() for e in self.evidence]}


def carries_information(view: str, rows: np.ndarray, columns: np.ndarray, fillers: np.ndarray) -> np.ndarray:
    """Which rows (n x width) of ``view`` say something about their entity: enough bits, characters or measured
    values, and not a row that stands for a missing one (``fillers``)."""
    filled = np.zeros(len(rows), dtype=bool)
    for filler in fillers:
        filled |= np.isclose(rows, filler, rtol=1e-6, atol=1e-9).all(axis=1)
    if view in TANIMOTO_VIEWS:
        enough = np.count_nonzero(rows[:, columns], axis=1) >= MIN_FINGERPRINT_BITS
    elif view in CHARACTER_VIEWS:
        enough = np.count_nonzero(rows, axis=1) >= MIN_SMILES_CHARACTERS
    else:
        enough = np.count_nonzero(rows, axis=1) >= max(MIN_PROFILE_VALUES,
                                                       int(np.ceil(MIN_PROFILE_SHARE * rows.shape[1])))
    return enough & ~filled


@dataclass(frozen=True)
class _View:
    """A view's known rows as evidence reads them: which carry information, and the similarity of any row
    (a known one, or a new entity's) to each of them by the view's measure."""

    name: str
    matrix: np.ndarray
    informative: np.ndarray  # known rows that carry information
    columns: np.ndarray  # compared columns (fingerprints: the bits that vary between rows)
    mean: np.ndarray  # what rows are centred on before the cosine: the informative rows' mean, or 0
    fillers: np.ndarray  # rows that stand for a missing profile: the column mean, the imputed row
    floor: float = 0.0  # evidence is a partner more alike than this: an average pair of known rows

    @classmethod
    def of(cls, name: str, matrix: np.ndarray) -> _View:
        from ammgc.data.validation import find_mean_imputed_rows

        imputed = find_mean_imputed_rows(matrix)
        fillers = np.vstack([matrix.mean(axis=0), matrix[imputed][:1]])
        columns = matrix.std(axis=0) > 0 if name in TANIMOTO_VIEWS else np.ones(matrix.shape[1], dtype=bool)
        informative = ~imputed & carries_information(name, matrix, columns, fillers)
        if name not in TANIMOTO_VIEWS | CHARACTER_VIEWS | COSINE_VIEWS:
            mean = matrix[informative].mean(axis=0) if informative.any() else np.zeros(matrix.shape[1])
            # a profile equal to the informative rows' mean has no direction left once centred
            informative &= np.linalg.norm(matrix - mean, axis=1) > 0
            return cls(name, matrix, informative, columns, mean, fillers)
        # Tanimoto, character identity and the cosine of non-negative profiles are never below 0: a partner
        # counts when it is more alike than two known rows are on average (centred profiles have that
        # average, about 0, built in)
        view = cls(name, matrix, informative, columns, np.zeros(matrix.shape[1]), fillers)
        rows = np.flatnonzero(informative)
        pairs = view._measure(matrix[rows])[rows]
        floor = float(pairs[np.triu_indices(len(rows), 1)].mean()) if len(rows) > 1 else 0.0
        return dataclasses.replace(view, floor=floor)

    def carries_information(self, row: np.ndarray) -> bool:
        rows = np.asarray(row, dtype=np.float64)[None, :]
        return bool(carries_information(self.name, rows, self.columns, self.fillers)[0])

    def similarities(self, row: np.ndarray) -> np.ndarray:
        """Similarity of a row to every known row; 0 where either carries no information."""
        row = np.asarray(row, dtype=np.float64)
        if not self.carries_information(row):
            return np.zeros(len(self.matrix))
        return np.where(self.informative, self._measure(row[None, :])[:, 0], 0.0)

    def _measure(self, others: np.ndarray) -> np.ndarray:
        """The view's similarity of every known row (rows) to each of ``others`` (columns)."""
        if self.name in TANIMOTO_VIEWS:
            known, other = self.matrix[:, self.columns], others[:, self.columns]
            shared = known @ other.T
            union = (known * known).sum(axis=1)[:, None] + (other * other).sum(axis=1)[None, :] - shared
            return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
        if self.name in CHARACTER_VIEWS:
            same = ((self.matrix[:, None, :] == others[None, :, :]) & (others[None, :, :] != 0)).sum(axis=2)
            length = np.maximum(np.count_nonzero(self.matrix, axis=1)[:, None],
                                np.count_nonzero(others, axis=1)[None, :])
            return np.divide(same, length, out=np.zeros(same.shape), where=length > 0)
        known, other = self.matrix - self.mean, others - self.mean
        norms = np.linalg.norm(known, axis=1)[:, None] * np.linalg.norm(other, axis=1)[None, :]
        return np.divide(known @ other.T, norms, out=np.zeros(norms.shape), where=norms > 0)


class Explainer:
    """Explanations of a trained model's pairs, with the training dataset's views as evidence.

    With ``extended`` (``ammgc.prediction.new_entities.extend``), pairs of new drugs and miRNAs are explained too: their
    indices follow the known ones, as in ``extended.dataset``; a new entity has activity 0 and no known
    partner, so its evidence is on the other side alone (known partners of the other entity that are
    similar to it). Where ``dataset.publications`` is set, each cited association carries its reports.
    """

    def __init__(self, model: AMMGC, dataset: Dataset, extended: Extended | None = None) -> None:
        check_dataset(model, dataset)
        missing = [v for v in (*model.drug_views, *model.mirna_views) if v not in dataset.views]
        if missing:
            raise AmmgcError(f"the dataset lacks the view(s) {missing} the model was trained with")
        self.model, self.dataset, self.extended = model, dataset, extended
        self._views = {v: _View.of(v, np.asarray(dataset.view(v).matrix, dtype=np.float64))
                       for v in (*model.drug_views, *model.mirna_views)}
        self._known_similarities: dict[tuple[str, int], np.ndarray] = {}
        publications = dataset.publications
        self._references: dict[tuple[int, int], tuple[str, ...]] = {} if publications is None else {
            (int(d), int(m)): tuple(r for r in refs.split(";") if r)
            for (d, m), refs in zip(publications.pairs, publications.references, strict=True)}
        self._pubmed = publications is None or publications.kind == "pmid"
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
        linked_mirnas, linked_drugs = self._linked(drug, mirna)
        return Explanation(
            drug=self.drug_names[drug], mirna=self.mirna_names[mirna], score=score, embedding_term=embedding,
            prior_term=float(model.config.degree_prior) * (drug_log + mirna_log),
            drug_activity=float(np.expm1(drug_log)), mirna_activity=float(np.expm1(mirna_log)),
            prior_counts=str(model.prior_counts_),
            known=known and bool(self.dataset.associations[drug, mirna]),
            evidence=self.evidence(drug, mirna, top=top), linked_mirnas=len(linked_mirnas),
            linked_drugs=len(linked_drugs))

    def _linked(self, drug: int, mirna: int) -> tuple[list[int], list[int]]:
        """The miRNAs linked to the drug and the drugs linked to the miRNA, the pair itself left out."""
        a, p, q = self.dataset.associations, self.model.n_drugs_, self.model.n_mirnas_
        mirnas = [int(j) for j in np.flatnonzero(a[drug]) if j != mirna] if drug < p else []
        drugs = [int(i) for i in np.flatnonzero(a[:, mirna]) if i != drug] if mirna < q else []
        return mirnas, drugs

    def _similarities(self, view: str, index: int, known: int, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Similarity of entity ``index`` (known, or new: row ``index - known`` of ``rows``) to every known
        row of ``view``; 0 where either carries no information."""
        table = self._views[view]
        if index >= known:
            return table.similarities(rows[view][index - known])
        if (view, index) not in self._known_similarities:
            self._known_similarities[(view, index)] = (table.similarities(table.matrix[index])
                                                       if table.informative[index] else np.zeros(known))
        return self._known_similarities[(view, index)]

    def evidence(self, drug: int, mirna: int, *, top: int = 3) -> list[Evidence]:
        """The ``top`` most similar known partners on each side, across the model's views."""
        p, q = self.model.n_drugs_, self.model.n_mirnas_
        new_drug_rows = self.extended.drug_rows if self.extended is not None else {}
        new_mirna_rows = self.extended.mirna_rows if self.extended is not None else {}
        linked_mirnas, linked_drugs = self._linked(drug, mirna)
        items: list[Evidence] = []
        for side, views, anchor, known, rows, partners, names in (
                ("mirna", self.model.mirna_views, mirna, q, new_mirna_rows, linked_mirnas,
                 self.dataset.mirna_names),
                ("drug", self.model.drug_views, drug, p, new_drug_rows, linked_drugs, self.dataset.drug_names)):
            best: dict[int, Evidence] = {}
            for view in views:
                similarity = self._similarities(view, anchor, known, rows)
                floor = self._views[view].floor
                for k in partners:
                    if similarity[k] <= floor:
                        continue  # no more alike than an average pair, or no information: not evidence
                    if k not in best or similarity[k] > best[k].similarity:
                        pair = (drug, k) if side == "mirna" else (k, mirna)
                        best[k] = Evidence(side, names[k], view, float(similarity[k]),
                                           self._references.get(pair, ()), self._pubmed)
            items += sorted(best.values(), key=lambda e: -e.similarity)[:top]
        return items

    def nearest(self, side: str, rows: dict[str, np.ndarray], *, top: int = 3) -> list[Evidence]:
        """The known drugs (``side="drug"``) or miRNAs most similar to a new one, given its view rows; empty
        when none of its rows carries information."""
        views = self.model.drug_views if side == "drug" else self.model.mirna_views
        names = self.dataset.drug_names if side == "drug" else self.dataset.mirna_names
        best: dict[int, Evidence] = {}
        for view in views:
            similarities = self._views[view].similarities(rows[view])
            for k in np.flatnonzero(similarities > self._views[view].floor):
                similarity = float(similarities[k])
                if k not in best or similarity > best[k].similarity:
                    best[int(k)] = Evidence(side, names[k], view, similarity)
        return sorted(best.values(), key=lambda e: -e.similarity)[:top]


def evidence_column(explainer: Explainer, table: Any, *, top: int = 3) -> list[str]:
    """The ``evidence`` column of a ranking: the ``top`` most similar known partners of each row's pair
    (either side), with their reports; for a new drug or miRNA, the other entity's known partners most similar
    to it (empty when the explainer was built without the new entities); ``NO_NEIGHBOUR`` when no known
    partner carries information and is similar."""
    p, q = explainer.model.n_drugs_, explainer.model.n_mirnas_
    out = []
    for d, m in zip(table["drug_index"], table["mirna_index"], strict=True):
        if (d >= p or m >= q) and explainer.extended is None:
            out.append("")
            continue
        items = sorted(explainer.evidence(int(d), int(m), top=top), key=lambda e: -e.similarity)[:top]
        out.append("; ".join(e.text() for e in items) or NO_NEIGHBOUR)
    return out


def explanation_text(e: Explanation) -> str:
    """A short report of one explanation for the terminal."""
    lines = [f"{e.drug} x {e.mirna}: score {e.score:.4f} ({'a known association' if e.known else 'not known'})",
             f"  activity prior  {e.prior_term:+.4f}  ({e.prior_share:.0%} of the score's size; "
             f"{e.drug_activity:g} and {e.mirna_activity:g} {_counted(e.prior_counts)})",
             f"  embeddings      {e.embedding_term:+.4f}  (graph and features)"]
    for side, linked, title in (
            ("mirna", e.linked_mirnas, f"miRNAs already linked to {e.drug}, most similar to {e.mirna}"),
            ("drug", e.linked_drugs, f"drugs already linked to {e.mirna}, most similar to {e.drug}")):
        found = [x for x in e.evidence if x.side == side]
        empty = f" {NO_NEIGHBOUR} among {linked}" if linked else " none (no known partner)"
        lines.append(f"  {title}:" + ("" if found else empty))
        lines += [f"    {x.name:<28} {VIEW_KINDS.get(x.view, x.view):<12} similarity {x.similarity:.3f}"
                  + (f"  {x.reports()}" if x.references else "") for x in found]
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

    from ammgc.sigint import reinstating_sigint

    RDLogger.DisableLog("rdApp.*")
    with reinstating_sigint():  # RDKit may take Ctrl-C over in this process
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
            if not near:
                problems = [*problems, f"{NO_NEIGHBOUR} among the known {what}s (none of its views carries "
                                       f"information, or none is alike)"]
            elif near[0].similarity < NEIGHBOUR_FLOOR:
                problems = [*problems, f"no known {what} more similar than {NEIGHBOUR_FLOOR} in any view"]
        for problem in problems:
            notes.append(f"warning: new {what} {name}: {problem}; its prediction is the popularity ranking, "
                         f"not evidence about this {what}")
    return notes
