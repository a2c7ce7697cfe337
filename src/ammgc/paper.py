"""Every number the paper reports, in one place (Niu et al. 2022, Front. Pharmacol. 12:799108).

Tables 1-3 are mean ± standard deviation over the paper's cross-validation (its Table 1 and Table 2 are
10 x 5-fold; Table 3 is captioned "5-CV", and its 1:1 row repeats Table 1's AMMGC row). Table 4 is the
case study's top 10. Reports print these beside our numbers, on the benchmark only.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The metrics of the paper's tables, in their column order.
TABLE_METRICS = ("aupr", "auc", "f1", "acc", "rec")
#: (mean, standard deviation) of one metric.
Stat = tuple[float, float]


def row(*cells: Stat) -> dict[str, Stat]:
    """A row of one of the paper's tables: (mean, std) per metric, in ``TABLE_METRICS`` order."""
    return dict(zip(TABLE_METRICS, cells, strict=True))


#: Table 1: AMMGC and the five comparison methods, 10 x 5-fold CV.
TABLE1: dict[str, dict[str, Stat]] = {
    "ammgc": row((0.2399, 0.0018), (0.9467, 0.0007), (0.3184, 0.0022), (0.9867, 0.0008), (0.3587, 0.0106)),
    "cf": row((0.2046, 0.0058), (0.8618, 0.0058), (0.2873, 0.0042), (0.9856, 0.0007), (0.3314, 0.0157)),
    "lp": row((0.2262, 0.0060), (0.8610, 0.0039), (0.3075, 0.0059), (0.9886, 0.0010), (0.3176, 0.0220)),
    "gf": row((0.1619, 0.0045), (0.8530, 0.0027), (0.2318, 0.0042), (0.9842, 0.0010), (0.2745, 0.0170)),
    "sdne": row((0.1872, 0.0074), (0.8693, 0.0029), (0.2629, 0.0074), (0.9853, 0.0010), (0.3012, 0.0177)),
    "gcmdr": row((0.2242, 0.0008), (0.9217, 0.0002), (0.3049, 0.0020), (0.9878, 0.0006), (0.3098, 0.0155)),
}

#: Table 2: the ablation variants (keys of ``ammgc.experiments.ablation.VARIANTS``), 10 x 5-fold CV.
TABLE2: dict[str, dict[str, Stat]] = {
    "full": TABLE1["ammgc"],
    "no_attention": row((0.2167, 0.0023), (0.9446, 0.0004), (0.3049, 0.0044), (0.9863, 0.0009), (0.3469, 0.0184)),
    "no_biological": row((0.1982, 0.0005), (0.9414, 0.0016), (0.2748, 0.0020), (0.9854, 0.0007), (0.3177, 0.0157)),
    "no_multimodal": row((0.2263, 0.0129), (0.9445, 0.0009), (0.3104, 0.0088), (0.9855, 0.0009), (0.3520, 0.0070)),
    "modal1": row((0.2236, 0.0028), (0.9442, 0.0005), (0.3048, 0.0028), (0.9862, 0.0004), (0.3478, 0.0101)),
    "modal2": row((0.2342, 0.0014), (0.9424, 0.0004), (0.3182, 0.0031), (0.9864, 0.0005), (0.3604, 0.0132)),
    "modal3": row((0.2278, 0.0024), (0.9443, 0.0005), (0.3108, 0.0029), (0.9866, 0.0006), (0.3505, 0.0179)),
    "modal4": row((0.2193, 0.0020), (0.9409, 0.0006), (0.3093, 0.0035), (0.9860, 0.0009), (0.3581, 0.0157)),
}

#: Table 3: negatives per positive ("5-CV" in its caption; the 1:1 row is Table 1's AMMGC row).
TABLE3: dict[float, dict[str, Stat]] = {
    1: TABLE1["ammgc"],
    5: row((0.2415, 0.0029), (0.9476, 0.0009), (0.3196, 0.0024), (0.9875, 0.0006), (0.3573, 0.0087)),
    10: row((0.2404, 0.0036), (0.9481, 0.0015), (0.3203, 0.0027), (0.9881, 0.0009), (0.3568, 0.0081)),
}

#: Figure 3B's reading at h1 = 128 (the paper gives no table for it): AUPR and AUC, approximately.
FIGURE3_WIDTH_TEXT = "the paper (h1 = 128) reports AUPR ≈ 0.235 and AUC ≈ 0.946"


@dataclass(frozen=True)
class PaperPair:
    rank: int
    drug: str  # as the paper prints it
    mirna: str
    evidence: str
    dataset_drug: str  # the benchmark's name for the same drug


#: Table 4: top 10 predicted miRNA-drug resistance associations, with its evidence column.
TABLE4: tuple[PaperPair, ...] = (
    PaperPair(1, "Gemcitabine", "hsa-mir-30b", "N.A.", "Gemcitabine"),
    PaperPair(2, "Oxaliplatin", "hsa-mir-146a", "PMID: 26396533", "Oxaliplatin"),
    PaperPair(3, "Gemcitabine", "hsa-mir-145", "PMID: 25833690", "Gemcitabine"),
    PaperPair(4, "Gemcitabine", "hsa-mir-197", "N.A.", "Gemcitabine"),
    PaperPair(5, "doxorubicin", "hsa-mir-363", "N.A.", "Doxorubicin (Adriamycin)"),
    PaperPair(6, "Gemcitabine", "hsa-mir-320a", "PMID: 23799850", "Gemcitabine"),
    PaperPair(7, "5-Fluorouracil", "hsa-mir-100", "N.A.", "5-Fluorouracil"),
    PaperPair(8, "Cisplatin", "hsa-mir-425", "PMID: 21743970", "Cisplatin"),
    PaperPair(9, "Gemcitabine", "hsa-mir-23b", "N.A.", "Gemcitabine"),
    PaperPair(10, "Gemcitabine", "hsa-let-7e", "N.A.", "Gemcitabine"),
)
