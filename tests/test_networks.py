"""The optional target-network miRNA views: verified download on request, and the views built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ammgc.data import TargetNetworks
from ammgc.data.dataset import Dataset
from ammgc.errors import DataError, DownloadError
from ammgc.io import file_blob_sha1

#: small networks in the published format (family-level names, weighted edges), standing in for the real ones
#: (no licence: neither shipped nor copied into the repository)
NETWORKS = {"miRNANetS.txt": "hsa-mir-21\t0.4\thsa-let-7a\nhsa-mir-155\t0.7\thsa-mir-21\n"
                             "hsa-mir-125b\t0.2\thsa-let-7a\nhsa-mir-9999\t0.9\thsa-mir-155\n",
            "miRNANetW.txt": "hsa-mir-21\t0.3\thsa-mir-155\n"}


@pytest.fixture
def side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "side"
    folder.mkdir()
    for name, text in NETWORKS.items():
        (folder / name).write_text(text)
    monkeypatch.setattr(TargetNetworks, "files", tuple(f.__class__(f.path, f.url, file_blob_sha1(folder / f.path))
                                                      for f in TargetNetworks.files))
    return folder


def test_views_of_the_benchmark(side: Path, benchmark: Dataset) -> None:
    views = {v.name: v for v in TargetNetworks(side).load(benchmark.mirna_names)}
    assert {n: v.shape for n, v in views.items()} == {"targets_s": (754, 5), "targets_w": (754, 2)}
    # by precursor name (hsa-mir-21, hsa-miR-125b ignoring case) or family (hsa-let-7a-1 -> hsa-let-7a)
    mapped = ["hsa-mir-21", "hsa-mir-125b-1", "hsa-mir-155", "hsa-let-7a-1", "hsa-miR-125b", "hsa-let-7a-2"]
    assert all(name in benchmark.mirna_names for name in mapped)
    mapped_s = len(mapped)
    assert views["targets_s"].note == f"{mapped_s} of 754 miRNAs mapped onto miRNANetS.txt"
    s = views["targets_s"].matrix
    mir21 = benchmark.mirna_names.index("hsa-mir-21")
    assert s[mir21].max() == 1.0 and np.all((s >= 0) & (s <= 1))  # its own column, by family name


def test_tiny_network_by_precursor_and_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for f in TargetNetworks.files:
        (tmp_path / f.path).write_text("hsa-mir-29b\t0.5\thsa-let-7a\nhsa-mir-21-5p\t0.25\thsa-let-7a\n")
    monkeypatch.setattr(TargetNetworks, "files", tuple(f.__class__(f.path, f.url, file_blob_sha1(tmp_path / f.path))
                                                      for f in TargetNetworks.files))
    [view, _] = TargetNetworks(tmp_path).load(["hsa-mir-29b-1", "hsa-mir-21", "hsa-mir-1"])
    # columns: hsa-let-7a, hsa-mir-21, hsa-mir-29b; hsa-mir-1 is not in the network: the mean of the others
    assert view.matrix.tolist() == [[0.5, 0.0, 1.0], [0.25, 1.0, 0.0], [0.375, 0.5, 0.5]]
    assert view.note == "2 of 3 miRNAs mapped onto miRNANetS.txt"
    (tmp_path / "miRNANetS.txt").write_text("hsa-mir-29b\t0.9\thsa-let-7a\n")
    with pytest.raises(DataError, match="does not match the published file"):
        TargetNetworks(tmp_path).load(["hsa-mir-21"])


def test_fetched_on_request_and_verified(side: Path, benchmark_path: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ammgc.cli import app

    mirror = tmp_path / "mirror"
    shutil.copytree(benchmark_path, mirror)
    for f in TargetNetworks.files:
        shutil.copy(side / f.path, mirror / f.path)
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AMMGC_SIDE", raising=False)
    args = ["data", "fetch", "--dest", str(tmp_path / "bench"), "--base-url", mirror.as_uri(), "--no-ncdr", "--no-go",
            "--no-mirbase", "--retries", "0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "home" / "side").exists()  # not by default: no licence, so only on request
    result = CliRunner().invoke(app, [*args, "--side"])
    assert result.exit_code == 0, result.output
    assert f"target networks ready in {tmp_path / 'home' / 'side'}" in result.output
    assert TargetNetworks().resolve(fetch=False) == tmp_path / "home" / "side"
    (mirror / "miRNANetW.txt").write_text("hsa-mir-1\t1\thsa-mir-2\n")
    with pytest.raises(DownloadError, match="does not match the published file"):
        TargetNetworks().download(tmp_path / "other", base_url=mirror.as_uri(), progress=False)


def test_a_folder_without_the_networks_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="not a folder with miRNANetS.txt and miRNANetW.txt"):
        TargetNetworks(tmp_path).load(["hsa-mir-21"])
    monkeypatch.setenv("AMMGC_SIDE", str(tmp_path / "missing"))
    with pytest.raises(DataError, match=r"set by AMMGC_SIDE"):
        TargetNetworks().load(["hsa-mir-21"])
