"""The own-data example of docs/data.md, written out from the page itself, passes `data check` and `predict`."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

PAGE = Path(__file__).resolve().parents[1] / "docs" / "data.md"


def example_files() -> dict[str, str]:
    """``# name`` headed sections of the code block after "Example:" on the page."""
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(r"Example:\n\n```\n(.*?)```", text, re.S)
    assert block, "docs/data.md lost its own-data example"
    files: dict[str, list[str]] = {}
    current = None
    for line in block.group(1).splitlines():
        if line.startswith("# "):
            current = line[2:].strip()
            files[current] = []
        elif current is not None:
            files[current].append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in files.items()}


def test_the_documented_own_data_example_passes_check_and_predict(tmp_path: Path) -> None:
    from ammgc.cli import app

    root = tmp_path / "mydata"
    for name, content in example_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    check = CliRunner().invoke(app, ["data", "check", str(root)])
    assert check.exit_code == 0, check.output
    predict = CliRunner().invoke(app, ["predict", "--data", str(root), "--drug", "Tamoxifen", "--epochs-gcn", "3",
                                       "--epochs-attention", "3", "-o", "hidden=[8,8]", "--no-calibrate"])
    assert predict.exit_code == 0, predict.output
    assert "Tamoxifen" in predict.output and "hsa-mir-" in predict.output


LIBRARY_PAGE = Path(__file__).resolve().parents[1] / "docs" / "python.md"


def test_the_documented_user_method_prints_what_the_page_says(capsys: object) -> None:
    """The page's own-method example, run as written: a plain class graded under the study and time splits
    beside popularity-studies, printing exactly the lines the page shows."""
    text = LIBRARY_PAGE.read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", text, re.S)[-1]
    shown = re.search(r"prints .*?\n\n```text\n(.*?)```", text, re.S)
    assert "class SharedPartners" in code and shown, "docs/python.md lost its own-method example"
    exec(compile(code, str(LIBRARY_PAGE), "exec"), {"__name__": "docs_example"})
    assert capsys.readouterr().out == shown.group(1)  # type: ignore[attr-defined]
