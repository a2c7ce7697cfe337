"""The Markdown pages: each a function of results already computed, returning the page's text.

One cell format (``mean ± spread``, four decimals, "–" where there is no number) and one table layout
serve every page, so that a number reads the same in every report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ammgc.data.benchmark import DATASET_NAME
from ammgc.paper import FIGURE3_WIDTH_TEXT, TABLE1, TABLE2, TABLE_METRICS

#: The metrics of a ranking as a lab reads it, shown under every protocol.
USER_METRICS = ("ap", "auc", "drug_ap", "drug_auc", "prec_at_20", "prec_at_100", "drug_recall_at_20")
USER_METRIC_LABELS = {"ap": "AP", "auc": "AUC", "drug_ap": "per-drug AP", "drug_auc": "per-drug AUC",
                      "prec_at_20": "P@20", "prec_at_100": "P@100", "drug_recall_at_20": "per-drug R@20"}
#: The few of them that summarise a ranking overall, per drug and at the top (protocols.md, tune.md).
SUMMARY_METRICS = ("ap", "auc", "drug_ap", "prec_at_100")

GO_SUBSTITUTE_NOTE = ("The miRNA GO-similarity view was not available: the miRBase `sequence` view stood in for it "
                      "in the rows marked †, so they are not directly comparable with the paper's.")
#: The settings every report states, so that numbers from different defaults are never confused.
_KEY_SETTINGS = ("hidden", "epochs_gcn", "epochs_attention", "p_neg", "degree_prior")


# --- cells, tables and notes shared by the pages ----------------------------------------------------------

def cell(mean: float | None, spread: float | None = None, *, bold: bool = False) -> str:
    """``mean ± spread`` (or ``mean`` alone) to four decimals, in bold if asked; "–" where there is no mean."""
    if mean is None:
        return "–"
    text = f"{mean:.4f} ± {spread:.4f}" if spread is not None else f"{mean:.4f}"
    return f"**{text}**" if bold else text


def metrics_line(mean: Mapping[str, float], spread: Mapping[str, float], metrics: Sequence[str],
                 labels: Mapping[str, str] | None = None) -> str:
    """``AUPR 0.2400 ± 0.0100, AUC ...``: the one-line summary a command prints."""
    return ", ".join(f"{(labels or {}).get(m, m.upper())} {cell(mean[m], spread[m])}" for m in metrics)


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(f"{c}" for c in cells) + " |"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table."""
    return [_row(header), "|" + "---|" * len(header), *(_row(r) for r in rows)]


def views_note(views: dict[str, Any] | None) -> str:
    """One line saying which views a result used, and whether sequence stood in for GO."""
    if not views or not (views.get("drug") or views.get("mirna")):
        return "Views: none (the method uses the association matrix only)."
    note = f"Views: drug {', '.join(views['drug']) or '-'}; miRNA {', '.join(views['mirna']) or '-'}."
    prior = {"studies": "publications that first reported each node's training pairs",
             "mixed": "geometric mean of training degrees and publications", "pairs": "training degrees"}
    if views.get("prior_counts") in prior:
        note += f" Activity prior: {prior[views['prior_counts']]}."
    if views.get("go_substitute"):
        note += (" The miRNA GO-similarity view was not available: the miRBase `sequence` view stood in for it,"
                 " so numbers are not directly comparable with the paper's.")
    if views.get("warning"):
        note += f" Warning: {views['warning']}"
    return note


def config_note(base: Any) -> str:
    """The AMMGC settings in effect and what differs from the defaults (reduced epochs must be visible)."""
    effective = base.config_dict()
    shown = ", ".join(f"{k}={effective[k]}" for k in _KEY_SETTINGS if k in effective)
    overrides = base.changed_params()
    changed = ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) if overrides else "none"
    return f"AMMGC settings: {shown} (overrides of the defaults: {changed})."


def protocol_note(repeats: int, n_folds: int, seed: int) -> str:
    return (f"Ours: {repeats} repeat(s) x {n_folds}-fold CV (seed {seed}), mean ± std over folds; test set = held-out "
            "positives + every unobserved pair; F1/ACC/REC at the max-F1 threshold. Paper: 10 x 5-fold CV.")


def paper_table(rows: list[dict[str, Any]], first_column: str) -> list[str]:
    """Rows of ours and the paper's numbers (``result_row``s), in the layout of the paper's tables."""
    return _table([first_column, "source", *(m.upper() for m in TABLE_METRICS)],
                  ([r["label"], r["source"], *(cell(r[m], r[f"{m}_std"]) for m in TABLE_METRICS)] for r in rows))


def result_row(key: str, label: str, source: str, mean: dict[str, float], std: dict[str, float] | None,
               n_folds: int | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row of ``paper_table`` (and of its CSV): metric means and standard deviations of ours or the paper."""
    row: dict[str, Any] = {"key": key, "label": label, "source": source, **(extra or {})}
    for m in TABLE_METRICS:
        row[m] = mean.get(m)
        row[f"{m}_std"] = std.get(m) if std else None
    row["ap"] = mean.get("ap")
    row["folds"] = n_folds
    return row


# --- cross-validation of one method (report.md) -----------------------------------------------------------

def paper_means(method: str) -> dict[str, float] | None:
    """The paper's Table 1 means of ``method``, or None when the paper has no row for it."""
    return {m: mean for m, (mean, _) in TABLE1[method].items()} if method in TABLE1 else None


def report_markdown(results: list[tuple[str, dict[str, Any]]], *, title: str) -> str:
    """A table formatted like the paper's Table 1: ours (mean ± std) then the paper's row."""
    rows = []
    for label, body in results:
        rows.append([f"{label} (ours)", *(cell(body["mean"][m], body["std"][m] if body["std"] else None)
                                          for m in TABLE_METRICS)])
        paper = paper_means(body["method"])
        # the paper's numbers belong to its benchmark and its random-pair protocol only
        on_paper = body.get("dataset") == DATASET_NAME and body.get("split", "pair") == "pair"
        if paper and on_paper and not body["config"].get("modals") and label == body["method"]:
            rows.append([f"{label} (paper)", *(cell(paper[m]) for m in TABLE_METRICS)])
    lines = [f"# {title}", "", *_table(["method", *(m.upper() for m in TABLE_METRICS)], rows),
             "", "## Ranking metrics (mean ± standard error)", "",
             *_table(["method", *(USER_METRIC_LABELS[m] for m in USER_METRICS)],
                     ([label, *(cell(body["mean"].get(m, float("nan")), body.get("sem", {}).get(m, float("nan")))
                                for m in USER_METRICS)] for label, body in results)), ""]
    first = results[0][1]
    n_folds = len(first["folds"])
    repeats = len({f["repeat"] for f in first["folds"]})
    lines.append(f"{repeats} repeat(s) x {n_folds // max(1, repeats)} folds, split by {first.get('split', 'pair')}; "
                 "test set = held-out positives + every unobserved pair. F1/ACC/REC at the max-F1 threshold. "
                 "P@K: share of positives among the top K test pairs; per-drug metrics average over drugs with a "
                 "held-out pair. Standard error over repeat means (over folds where there is one repeat).")
    seen = set()
    for _, body in results:
        note = views_note(body.get("views"))
        if note not in seen:
            lines.append(f"{body['method']}: {note}")
            seen.add(note)
    return "\n".join(lines) + "\n"


# --- Table 1 and the protocols (ammgc compare) ------------------------------------------------------------

def table1_markdown(rows: list[dict[str, Any]], bodies: Mapping[str, dict[str, Any]], *, n_folds: int,
                    repeats: int, seed: int, digest: str, source: str, split: str = "pair") -> str:
    """table1.md: every method beside the paper, the ranking metrics, time per fold and views."""
    paper_best = {m: max((r[f"{m}_paper"] for r in rows if r[f"{m}_paper"] is not None), default=None)
                  for m in TABLE_METRICS}
    table = []
    for r in rows:
        best = set(r["best"].split(";"))
        cells = []
        for m in TABLE_METRICS:
            cells.append(cell(r[m], r[f"{m}_std"], bold=m in best))
            paper = r[f"{m}_paper"]
            cells.append(cell(paper, r[f"{m}_paper_std"], bold=paper is not None and paper == paper_best[m]))
        table.append([r["method"], *cells])
    header = ["method", *(f"{m.upper()} {who}" for m in TABLE_METRICS for who in ("ours", "paper"))]
    plan = (f"{repeats} repeat(s) x {n_folds}-fold CV (seed {seed})" if split != "time"
            else f"one fold per time cut-off ({len(next(iter(bodies.values()))['folds'])} cut-offs)")
    user_best = {m: max(r[m] for r in rows) for m in USER_METRICS}
    lines = [f"# Table 1 under the {split} protocol", "", *_table(header, table),
             "", "Bold: best in the column (ours and the paper's marked separately).",
             f"Ours: {split} split, {plan} on {source}, mean ± std over folds; "
             + ("the paper: 10 x 5-fold CV over random pairs. " if split == "pair" else
                "the paper's numbers belong to its random-pair protocol and are not shown here. ")
             + "Test set = held-out positives + every unobserved pair; F1/ACC/REC at the max-F1 threshold.",
             f"Every method ran on the same folds (split plan digest {digest}).", "",
             "## Ranking metrics (mean ± standard error)", "",
             *_table(["method", *(USER_METRIC_LABELS[m] for m in USER_METRICS)],
                     ([r["method"], *(cell(r[m], r[f"{m}_sem"], bold=r[m] == user_best[m]) for m in USER_METRICS)]
                      for r in rows)),
             "", "Standard error over repeat means (over cut-offs for the time split).", "",
             "## Time per fold", "",
             *_table(["method", "seconds per fold", "folds", "wall time of this run (s)"],
                     ([r["method"], f"{r['seconds_per_fold']:.2f} ± {r['seconds_per_fold_std']:.2f}", r["folds"],
                       f"{bodies[r['method']].get('wall_seconds_this_run'):.1f}"] for r in rows)),
             "", "Seconds per fold: training, scoring and metrics of one fold (one process, one torch thread); "
             "folds resumed from an earlier run keep their own time.", "", "## Views", ""]
    lines += [f"- {name}: {views_note(body.get('views'))}" for name, body in bodies.items()]
    return "\n".join(lines) + "\n"


def protocols_markdown(rows: list[dict[str, Any]], results: Mapping[str, Mapping[str, dict[str, Any]]],
                       differences: Mapping[str, Mapping[str, Mapping[str, tuple[float, float]]]], *,
                       reference: str) -> str:
    """protocols.md: every method under every protocol, the drop from random pairs, and ``differences``
    ({method: {split: {metric: (mean, standard error)}}} of ``reference`` − method on the same folds)."""
    splits = list(results)
    drops = [s for s in splits if s != "pair"] if "pair" in splits and len(splits) > 1 else []
    lines = ["# Every method under every protocol", ""]
    for m in SUMMARY_METRICS:
        best = {s: max((r[f"{s}_{m}"] for r in rows if r[f"{s}_{m}"] is not None), default=None) for s in splits}
        table = []
        for r in rows:
            cells = [cell(r[f"{s}_{m}"], r[f"{s}_{m}_sem"], bold=r[f"{s}_{m}"] == best[s]) for s in splits]
            for s in drops:
                pair, other = r[f"pair_{m}"], r[f"{s}_{m}"]
                cells.append("–" if pair is None or other is None or pair == 0
                             else f"{100 * (other - pair) / pair:+.0f}%")
            table.append([r["method"], *cells])
        lines += [f"## {USER_METRIC_LABELS[m]}", "",
                  *_table(["method", *splits, *(f"drop pair -> {s}" for s in drops)], table), ""]
    lines += ["Mean ± standard error (over repeat means; over cut-offs for the time split). Bold: best under the "
              "protocol. Drop: relative change from random pairs to the protocol.", ""]
    if differences:
        lines += [f"## {reference} against every other method, paired on the same folds", "",
                  f"Difference {reference} − method, mean ± standard error of the per-repeat (time: per-cut-off) "
                  "differences, and how many standard errors that is.", ""]
        for m in SUMMARY_METRICS:
            table = []
            for r in rows:
                if r["method"] == reference:
                    continue
                cells = []
                for s in splits:
                    if s not in differences[r["method"]]:
                        cells.append("–")
                        continue
                    diff, sem = differences[r["method"]][s][m]
                    cells.append(f"{diff:+.4f} ± {sem:.4f} ({diff / sem:+.1f} SE)" if sem > 0 else f"{diff:+.4f}")
                table.append([r["method"], *cells])
            lines += [f"### {USER_METRIC_LABELS[m]}", "", *_table(["method", *splits], table), ""]
    for split, bodies in results.items():
        first = next(iter(bodies.values()))
        repeats = len({f["repeat"] for f in first["folds"]})
        lines.append(f"- {split}: {repeats} repeat(s), {len(first['folds'])} folds in all")
    return "\n".join(lines) + "\n"


# --- Table 2, Table 3 and Figure 3 (ammgc experiment ablation / sensitivity) -------------------------------

def _views_short(views: dict[str, Any]) -> str:
    if not views["drug"] and not views["mirna"]:
        return "none (one-hot node features)"
    return f"drug {', '.join(views['drug'])}; miRNA {', '.join(views['mirna'])}"


def _claims(bodies: dict[str, dict[str, Any]], variants: list[Any]) -> list[str]:
    """The paper's claim that every variant falls short of the full model, checked on our numbers."""
    if "full" not in bodies:
        return []
    full, paper_full = bodies["full"]["mean"], TABLE2["full"]
    table = []
    for v in variants:
        if v.key == "full":
            continue
        mine = bodies[v.key]["mean"]
        paper_d = (paper_full["aupr"][0] - v.paper["aupr"][0], paper_full["auc"][0] - v.paper["auc"][0])
        our_d = (full["aupr"] - mine["aupr"], full["auc"] - mine["auc"])
        table.append([v.label, f"{paper_d[0]:+.4f} / {paper_d[1]:+.4f}", f"{our_d[0]:+.4f} / {our_d[1]:+.4f}",
                      "yes" if our_d[0] > 0 else "no"])
    return ["## Does the full model beat each variant?", "",
            *_table(["variant", "paper: full − variant AUPR / AUC", "ours: full − variant AUPR / AUC", "AUPR agrees"],
                    table), ""]


def table2_markdown(rows: list[dict[str, Any]], bodies: dict[str, dict[str, Any]], variants: list[Any], *,
                    repeats: int, n_folds: int, seed: int, base: Any) -> str:
    """table2.md: the ablation variants beside the paper, their views, and the paper's claim checked."""
    lines = ["# Ablation study (paper Table 2)", "", *paper_table(rows, "variant"), "",
             protocol_note(repeats, n_folds, seed), config_note(base)]
    if any(bodies[v.key]["views"].get("go_substitute") for v in variants):
        lines += ["", "† " + GO_SUBSTITUTE_NOTE]
    lines += ["", "Views per variant:", *(f"- {v.label}: {_views_short(bodies[v.key]['views'])}" for v in variants)]
    lines += ["", *_claims(bodies, variants)]
    return "\n".join(lines).rstrip() + "\n"


def sensitivity_markdown(rows: list[dict[str, Any]], param: str, *, repeats: int, n_folds: int, seed: int,
                         base: Any, views: dict[str, Any] | None) -> str:
    """sensitivity.md: AMMGC at each value of ``param``, beside the paper's Table 3 where it has one."""
    title = {"layers": "GCN depth (paper Figure 3A)", "width": "embedding width (paper Figure 3B)",
             "p_neg": "negative sampling ratio (paper Table 3)"}[param]
    lines = [f"# Sensitivity: {title}", "", *paper_table(rows, param), "",
             protocol_note(repeats, n_folds, seed), config_note(base),
             f"Each row sets {param} as shown; every other setting is as stated.", views_note(views)]
    if param == "layers":
        lines.append(f"Depth k uses hidden = (h1,) x (k-1) + (h2,) with the base sizes "
                     f"{tuple(base.config.hidden)}; the paper finds 2 layers best.")
    elif param == "width":
        lines.append(f"Width w uses hidden = (h1, w); {FIGURE3_WIDTH_TEXT} across widths, and chose a fused "
                     "embedding of 256.")
    return "\n".join(lines) + "\n"


# --- models trained on every association (case study, attention, external validation) ---------------------

def format_score(score: float) -> str:
    """Scores near 1 (a saturated sigmoid) shown by their distance from 1, so that they stay distinct."""
    return f"1 − {1.0 - score:.1e}" if score > 0.9999 else f"{score:.4f}"


def table4_markdown(ours: pd.DataFrame, paper: pd.DataFrame, *, top: int, shared: int, n_associations: int,
                    n_ranked: int, seeds: list[int], config: Any, views: dict[str, Any] | None) -> str:
    """table4.md: our top pairs, and the paper's top 10 located in our ranking."""
    paper_rows = []
    for r in paper.itertuples():
        where = f"{int(r.our_rank):,}" + (" ✓" if r.our_rank <= top else "") if r.status == "ranked" else r.status
        score = format_score(r.our_score) if r.status == "ranked" else "–"
        popular = f"{r.popularity_rank:g}" if r.status == "ranked" else "–"
        paper_rows.append([r.paper_rank, r.drug, r.mirna, r.evidence, where, score, popular])
    lines = ["# Case study (paper Table 4)", "",
             f"AMMGC trained on all {n_associations:,} associations"
             + (f", scores averaged over {len(seeds)} models (seeds {seeds[0]}..{seeds[-1]})" if len(seeds) > 1
                else f", seed {seeds[0]}") + f"; {n_ranked:,} unobserved pairs ranked.", "",
             f"## Our top {top}", "",
             *_table(["rank", "drug", "miRNA", "score", "paper's rank", "popularity's rank"],
                     ([r.rank, r.drug, r.mirna, format_score(r.score),
                       int(r.paper_rank) if pd.notna(r.paper_rank) else "–", f"{r.popularity_rank:g}"]
                      for r in ours.itertuples())),
             "", "## The paper's top 10 in our ranking", "",
             *_table(["paper's rank", "drug", "miRNA", "evidence (paper)", "our rank", "our score",
                      "popularity's rank"], paper_rows),
             "", f"{shared} of the paper's 10 pairs are in our top {top} (✓). Ranks are among all unobserved "
             "pairs, highest score first; popularity (drug degree x miRNA degree) shows how much of a rank the "
             "degrees alone explain (tied scores share their average rank).",
             config_note(config), views_note(views)]
    return "\n".join(lines) + "\n"


def attention_markdown(summary: pd.DataFrame, *, n_associations: int, seeds: list[int], fusion: str,
                       claim: str | None, config: Any, views: dict[str, Any] | None) -> str:
    """attention.md: each modal's mean coefficient, and the paper's reading of its Figure 2 checked."""
    lines = ["# Attention coefficients (paper Figure 2)", "",
             f"AMMGC trained on all {n_associations:,} associations; {len(seeds)} model(s), seeds "
             f"{seeds[0]}..{seeds[-1]}; fusion = {fusion}.", "",
             *_table(["modal", "drug views", "miRNA views", "mean coefficient", "std over models",
                      "share of dimensions led"],
                     ([r.modal, r.drug_views, r.mirna_views, f"{r.mean:.4f}", f"{r.std_over_models:.4f}",
                       f"{r.top_share:.1%}"] for r in summary.itertuples())),
             "", *([claim] if claim else []), config_note(config), views_note(views)]
    if fusion == "equal":
        lines.append("With fusion = equal every coefficient is fixed at 1/U: nothing is learned.")
    return "\n".join(lines) + "\n"


def evaluation_markdown(results: list[Any], pairs: pd.DataFrame, *, hits_at: Sequence[int],
                        source: str, note: str) -> str:
    """evaluation.md: where the given pairs fall in each ranking, overall and per drug, beside chance."""
    first = results[0].metrics
    counts = pairs["status"].value_counts()
    middle = f"{(first['unobserved_pairs'] + 1) / 2:.0f}"
    lines = ["# External validation of the ranking", "",
             f"{first['pairs']} pair(s) evaluated among {first['unobserved_pairs']:,} unobserved pairs; "
             f"{counts.get('known', 0)} already known (excluded), {counts.get('duplicate', 0)} duplicate(s) "
             f"(counted once). Scores: {source}.", "",
             *_table(["ranking", "AUC", "AP", *(f"hits@{k}" for k in hits_at), "median rank", "mean rank"],
                     [*([r.label, f"{r.metrics['auc']:.4f}", f"{r.metrics['ap']:.4f}",
                         *(r.metrics[f"hits@{k}"] for k in hits_at), f"{r.metrics['median_rank']:.0f}",
                         f"{r.metrics['mean_rank']:.0f}"] for r in results),
                      ["random (expected)", "0.5000", f"{first['ap_random']:.4f}",
                       *(f"{first[f'hits@{k}_random']:.1f}" for k in hits_at), middle, middle]]),
             "", "Ranks are 1-based among unobserved pairs; tied scores share their average rank.", note, ""]
    merged = [r.per_drug.set_index("drug_index") for r in results]
    header = ["drug", "pairs", *(f"{r.label} {what}" for r in results for what in ("hits@100", "median rank"))]
    lines += ["## Per drug", "",
              *_table(header, ([merged[0].loc[i, "drug"], merged[0].loc[i, "pairs"],
                                *(x for t in merged for x in (t.loc[i, "hits@100"], f"{t.loc[i, 'median_rank']:.0f}"))]
                               for i in merged[0].index))]
    known = pairs[pairs["status"] == "known"]
    if len(known):
        lines += ["", "## Pairs already in the training data (excluded)", ""]
        lines += [f"- row {r.row}: {r.drug} – {r.mirna}" for r in known.itertuples()]
    return "\n".join(lines) + "\n"


# --- tuning and the whole study ----------------------------------------------------------------------------

def tune_markdown(method: str, rows: list[dict[str, Any]], best: int, chosen: dict[str, Any]) -> str:
    """tune.md: every grid point's inner metrics, the chosen one marked."""
    ranked_by = chosen["ranked_by"]
    lines = [f"# Tuning {method} under the {chosen['split']} protocol", "",
             f"Searched on: {chosen['inner']}. No outer test pair is used. Ranked by mean inner "
             f"{USER_METRIC_LABELS[ranked_by]}; mean ± standard error over inner folds.", "",
             *_table(["configuration", *(USER_METRIC_LABELS[m] for m in SUMMARY_METRICS), "s/fold"],
                     ([f"`{row['point']}`" + (" **(chosen)**" if k == best else ""),
                       *(cell(row[m], row[f"{m}_sem"]) for m in SUMMARY_METRICS), f"{row['seconds_per_fold']:.1f}"]
                      for k, row in enumerate(rows))),
             "", f"Chosen: `{json.dumps(chosen['point'], sort_keys=True)}`."]
    return "\n".join(lines) + "\n"


#: The pages of each part of the study, relative to its folder.
STUDY_PAGES = {"table1": [("Table 1: every method, random pairs", "table1/table1.md")],
               "table2": [("Table 2: ablation", "table2/table2.md")],
               "table3": [("Table 3: negatives per positive", "table3/sensitivity.md")],
               "figure3": [("Figure 3A: GCN depth", "figure3/layers/sensitivity.md"),
                           ("Figure 3B: embedding width", "figure3/width/sensitivity.md")],
               "protocols": [("Table 1 under the study and time splits", "protocols/protocols.md")]}


def index_markdown(parts: Sequence[str], plan: str, *, repeats: int, n_folds: int, seed: int, source: str) -> str:
    """index.md of ``ammgc study``: a link to each part's page and the plan (``plan_text``) it ran."""
    lines = ["# The study", "", f"Data: {source}. Random-pair protocol: {repeats} x {n_folds}-fold, seed {seed}; "
             "study split 5 x 5-fold; time split at 60/70/80% of the publication order.", ""]
    for part in parts:
        lines += [f"- [{title}]({path})" for title, path in STUDY_PAGES[part]]
    lines += ["", "```", plan, "```", "",
              "Every part is also a command of its own (`ammgc compare`, `ammgc experiment ablation`, "
              "`ammgc experiment sensitivity`); a configuration that several parts run was trained once "
              "(`shared-folds/`)."]
    return "\n".join(lines) + "\n"


# --- graded predictions of exported folds (ammgc evaluate) ------------------------------------------------

def grade_markdown(label: str, body: dict[str, Any], references: Mapping[str, dict[str, Any]],
                   differences: Mapping[str, Mapping[str, tuple[float, float]]], *, export: Mapping[str, Any]
                   ) -> str:
    """report.md of graded predictions: ``body`` beside each reference on the same folds (report.md's tables),
    the paired differences ({reference: {metric: (mean, standard error)}} of ``label`` − reference) and the
    export (``folds``, ``folds_sha256``, ``dataset``, ``dataset_sha256``, ``ammgc``) the scores were graded on."""
    rows = [(label, body), *((f"{name}, same folds", ref) for name, ref in references.items())]
    paired = []
    for name, diff in differences.items():
        cells = []
        for m in SUMMARY_METRICS:
            mean, sem = diff[m]
            cells.append(f"{mean:+.4f} ± {sem:.4f} ({mean / sem:+.1f} SE)" if sem > 0 else f"{mean:+.4f}")
        paired.append([name, *cells])
    first = body["folds"]
    repeats = len({f["repeat"] for f in first})
    lines = [f"# Grade of {label}", "",
             *_table(["method", *(m.upper() for m in TABLE_METRICS)],
                     ([lab, *(cell(b["mean"][m], b["std"][m]) for m in TABLE_METRICS)] for lab, b in rows)),
             "", "## Ranking metrics (mean ± standard error)", "",
             *_table(["method", *(USER_METRIC_LABELS[m] for m in USER_METRICS)],
                     ([lab, *(cell(b["mean"][m], b["sem"][m]) for m in USER_METRICS)] for lab, b in rows)), ""]
    if paired:
        lines += [f"## {label} against each reference, paired on the same folds", "",
                  f"Difference {label} − reference, mean ± standard error of the per-repeat (one repeat: per-fold) "
                  "differences, and how many standard errors that is.", "",
                  *_table(["reference", *(USER_METRIC_LABELS[m] for m in SUMMARY_METRICS)], paired), ""]
    lines += [f"{repeats} repeat(s) x {len(first) // max(1, repeats)} folds, split by {body.get('split')}; "
              "test set = the fold's held-out pairs among its candidates (test.csv, candidates.csv). F1/ACC/REC at "
              "the max-F1 threshold. P@K: share of positives among the top K candidates; per-drug metrics average "
              "over drugs with a held-out pair. Mean ± std over folds in the first table; standard error over "
              "repeat means (over folds where there is one repeat). Each fold graded as `ammgc cv` grades it.",
              "", f"Folds: {export['folds']} (folds_sha256 `{export['folds_sha256']}`), exported by ammgc "
              f"{export['ammgc']} from {export['dataset']}"
              + (f" (dataset sha256 `{export['dataset_sha256']}`)." if export.get("dataset_sha256") else ".")]
    return "\n".join(lines) + "\n"
