"""The ranking as one self-contained HTML page (`ammgc predict --html`): a lab can open, search, sort and
share it without ammgc, a server or the network.

Everything is inside the file: the rows as JSON in a ``<script type="application/json">`` block, the
script that renders them into the table (names are set as text, never parsed as HTML, so a name like
``<b>`` shows as typed), the style, and the reliability diagram as a data URL. A content security
policy forbids every outside request. The URL fragment ``#q=TEXT`` opens the page filtered to rows whose
drug or miRNA contains TEXT (what the browser test uses, and a way to share a view of the page).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ammgc import __version__
from ammgc.prediction.predict import COLUMN_HELP

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem;margin:.2rem 0}.meta{color:#555}.warn{color:#8a3b00}
table{border-collapse:collapse;width:100%;margin-top:.6rem}th,td{padding:.25rem .5rem;border-bottom:1px solid #e3e6ea;
text-align:left;vertical-align:top}th{cursor:pointer;background:#f4f6f8;position:sticky;top:0}td.num{text-align:right;
font-variant-numeric:tabular-nums}.bar{display:inline-block;height:.6rem;background:#3b7dd8;margin-right:.3rem}
.new{font-size:.75rem;color:#fff;background:#8a3b00;border-radius:3px;padding:0 .25rem;margin-left:.3rem}
input{font:inherit;padding:.3rem .5rem;width:20rem}img{max-width:100%}dt{font-weight:600}dd{margin:0 0 .4rem 1rem}
"""

_SCRIPT = """
const rows = JSON.parse(document.getElementById('rows').textContent);
const columns = JSON.parse(document.getElementById('columns').textContent);
const body = document.querySelector('#ranking tbody');
const query = document.getElementById('query');
const count = document.getElementById('count');
let order = {key: 'rank', sign: 1};
function cell(row, key) {
  const td = document.createElement('td');
  const value = row[key];
  if (typeof value === 'number') {
    td.className = 'num';
    if (key === 'probability' || key === 'expected_precision') {
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = (Math.max(0, Math.min(1, value)) * 4) + 'rem';
      td.appendChild(bar);
    }
    const digits = key === 'percentile' ? 3 : 4;
    td.appendChild(document.createTextNode(key === 'rank' ? String(value) : value.toFixed(digits)));
  } else if (key === 'evidence' && value) {
    // PubMed ids (the only runs of 6-9 digits in the text) link to their record; names stay text
    String(value).split(/\\b(\\d{6,9})\\b/).forEach((part, i) => {
      if (i % 2) {
        const link = document.createElement('a');
        link.href = 'https://pubmed.ncbi.nlm.nih.gov/' + part + '/';
        link.rel = 'noopener noreferrer';
        link.textContent = part;
        td.appendChild(link);
      } else {
        td.appendChild(document.createTextNode(part));
      }
    });
  } else {
    td.textContent = value === null ? '' : String(value);
    if ((key === 'drug' && row.new_drug) || (key === 'mirna' && row.new_mirna)) {
      const tag = document.createElement('span');
      tag.className = 'new';
      tag.textContent = 'new';
      td.appendChild(tag);
    }
  }
  return td;
}
function render() {
  const text = query.value.trim().toLowerCase();
  const shown = rows.filter(r => !text || String(r.drug).toLowerCase().includes(text)
                                       || String(r.mirna).toLowerCase().includes(text));
  shown.sort((a, b) => (a[order.key] < b[order.key] ? -1 : a[order.key] > b[order.key] ? 1 : 0) * order.sign);
  body.replaceChildren(...shown.map(r => {
    const tr = document.createElement('tr');
    tr.dataset.rank = r.rank;
    columns.forEach(k => tr.appendChild(cell(r, k)));
    return tr;
  }));
  count.textContent = shown.length + ' of ' + rows.length + ' pairs';
}
document.querySelectorAll('#ranking th').forEach(th => th.addEventListener('click', () => {
  const key = th.dataset.key;
  const ascending = key === 'rank' || key === 'drug' || key === 'mirna';
  order = {key: key, sign: order.key === key ? -order.sign : (ascending ? 1 : -1)};
  render();
}));
query.addEventListener('input', render);
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.has('q')) query.value = hash.get('q');
render();
"""


def _json_script(element_id: str, value: Any) -> str:
    # "</" would end the script element early; JSON allows "<\\/" for it
    text = json.dumps(value, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def ranking_page(table: pd.DataFrame, *, title: str, summary: Sequence[str] = (), notes: Sequence[str] = (),
                 new_drugs: Sequence[int] = (), new_mirnas: Sequence[int] = (),
                 column_help: Mapping[str, str] | None = None, calibration: Any = None) -> str:
    """The HTML page of a ranking (``ammgc predict``'s table): ``summary`` lines under the title, ``notes``
    (warnings first) above the table, the reliability diagram of ``calibration`` (an
    ``ammgc.evaluation.calibration.Calibration``) below it when given; ``column_help`` says what each column
    means (default ``COLUMN_HELP``). PubMed ids in the evidence link to their PubMed record."""
    column_help = dict(column_help or COLUMN_HELP)
    # Row numbers help a program join the CSV back to the model's tables; a reader needs names.
    columns = [c for c in column_help if c in table.columns and not c.endswith("_index")]
    new_d, new_m = set(new_drugs), set(new_mirnas)
    rows = []
    for record in table.to_dict(orient="records"):
        row = {c: _clean(record[c]) for c in columns}
        row["new_drug"] = int(record.get("drug_index", -1)) in new_d
        row["new_mirna"] = int(record.get("mirna_index", -1)) in new_m
        rows.append(row)
    esc = html.escape
    ordered_notes = sorted(notes, key=lambda n: not n.startswith(("warning", "caution")))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        *(f'<p class="meta">{esc(line)}</p>' for line in summary),
    ]
    if ordered_notes:
        parts.append("<ul>" + "".join(
            f'<li class="{"warn" if n.startswith(("warning", "caution")) else "meta"}">{esc(n)}</li>'
            for n in ordered_notes) + "</ul>")
    parts += [
        '<p><input id="query" type="search" placeholder="filter by drug or miRNA" aria-label="filter"> '
        '<span id="count" class="meta"></span></p>',
        '<table id="ranking"><thead><tr>'
        + "".join(f'<th data-key="{c}" title="{esc(column_help[c])}">{esc(c)}</th>' for c in columns)
        + "</tr></thead><tbody></tbody></table>",
        "<h2>Columns</h2><dl>" + "".join(f"<dt>{esc(c)}</dt><dd>{esc(column_help[c])}</dd>" for c in columns)
        + "</dl>",
    ]
    if calibration is not None:
        from ammgc.reporting.figures import reliability_png

        data = base64.b64encode(reliability_png(calibration)).decode("ascii")
        parts.append('<h2>Calibration</h2><img alt="reliability diagram and expected precision by rank" '
                     f'src="data:image/png;base64,{data}">')
    parts += [f'<p class="meta">written by ammgc {esc(__version__)}</p>',
              _json_script("columns", columns), _json_script("rows", rows),
              f"<script>{_SCRIPT}</script></body></html>"]
    return "\n".join(parts) + "\n"


def write_page(path: str | os.PathLike[str], prediction: Any, card: Any) -> None:
    """``ranking_page`` of a prediction (``ammgc.prediction.predict``), written atomically to ``path``: the
    model's dataset and caveats (its ``ModelCard``) above the table, its reliability diagram below."""
    from ammgc.io import atomic_open

    table, extended = prediction.table, prediction.extended
    page = ranking_page(table, title=f"ammgc predictions: {len(table)} pairs", summary=[card.title, *card.caveats],
                        notes=[n for n in prediction.notes if n not in set(card.caveats)],
                        new_drugs=extended.new_drugs, new_mirnas=extended.new_mirnas, column_help=card.columns,
                        calibration=card.calibration)
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
