"""miRNA sequence view: miRBase files, name resolution rule by rule, similarity, cache, API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ammgc.data import Mirbase, cache_dir
from ammgc.data.mirbase import clean_sequence, read_fasta
from ammgc.errors import AmmgcError, DataError, DownloadError
from ammgc.features import ensure_views, go_view_name, mirna_sequence_row
from ammgc.features import mirna as mirna_mod
from ammgc.features.mirna import (
    build_sequence_view,
    load_catalogue,
    similarity_rows,
)
from ammgc.features.names import resolve_name


def _random_rna(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGU"), size=n))


def _write_fasta(path: Path, records: dict[str, tuple[str, str]]) -> None:
    path.write_text("".join(f">{k} {acc} Homo sapiens {k}\n{seq}\n" for k, (acc, seq) in records.items()))


@pytest.fixture
def mini_mirbase(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A small miRBase directory: release 22 (current), release 21 and aliases.txt."""
    rng = np.random.default_rng(7)
    mature_138 = _random_rna(rng, 22)
    mature_21 = _random_rna(rng, 22)
    seqs = {
        "hsa-mir-1-1": _random_rna(rng, 70), "hsa-mir-1-2": _random_rna(rng, 75),
        "hsa-mir-21": _random_rna(rng, 20) + mature_21 + _random_rna(rng, 30),
        "hsa-mir-138-1": _random_rna(rng, 15) + mature_138 + _random_rna(rng, 40),
        "hsa-mir-138-2": _random_rna(rng, 25) + mature_138 + _random_rna(rng, 35),
        "hsa-mir-20b": _random_rna(rng, 69), "hsa-mir-15a": _random_rna(rng, 83),
        "hsa-mir-15b": _random_rna(rng, 98), "hsa-mir-10": _random_rna(rng, 80),
    }
    old = {"hsa-mir-3607": _random_rna(rng, 72)}
    accessions = {name: f"MI{k:07d}" for k, name in enumerate(seqs, start=1)}
    _write_fasta(tmp_path / "hsa_hairpins_miRBase_v22.fa", {k: (accessions[k], s) for k, s in seqs.items()})
    _write_fasta(tmp_path / "hsa_matures_miRBase_v22.fa", {"hsa-miR-138-5p": ("MIMAT0000430", mature_138),
                                                           "hsa-miR-21-5p": ("MIMAT0000076", mature_21)})
    # release 21, wrapped over several lines as older miRBase files are
    v21 = "".join(f">{k} MI9{k[-4:]} Homo sapiens\n{s[:40]}\n{s[40:]}\n" for k, s in {**seqs, **old}.items())
    (tmp_path / "hsa_hairpins_miRBase_v21.fa").write_text(v21)
    (tmp_path / "aliases.txt").write_text(f"{accessions['hsa-mir-21']}\thsa-mir-21;hsa-mir-21old;\n"
                                          "MIMAT0000430\thsa-miR-138;hsa-miR-138-old;\n")
    return tmp_path, {**seqs, **old, "mature_138": mature_138}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("AMMGC_MIRBASE", raising=False)


@pytest.mark.parametrize(("name", "rule", "targets"), [
    ("hsa-mir-21", "exact", ("hsa-mir-21",)),
    ("hsa-miR-21", "case", ("hsa-mir-21",)),
    ("HSA-MIR-20B", "case", ("hsa-mir-20b",)),
    ("hsa-mir-1", "copies", ("hsa-mir-1-1", "hsa-mir-1-2")),
    ("hsa-miR-138-5p", "mature", ("hsa-mir-138-1", "hsa-mir-138-2")),
    ("hsa-mir-3607", "release 21", ("hsa-mir-3607 (release 21)",)),
    ("hsa-mir-21old", "alias", ("hsa-mir-21",)),
    ("hsa-miR-138-old", "alias", ("hsa-mir-138-1", "hsa-mir-138-2")),
    ("mmu-mir-20b", "species prefix", ("hsa-mir-20b",)),
    ("rno-miR-138-5p", "species prefix", ("hsa-mir-138-1", "hsa-mir-138-2")),
    ("miR-20b", "species prefix", ("hsa-mir-20b",)),
    ("hsa-mir-1-3", "copy number", ("hsa-mir-1-1", "hsa-mir-1-2")),
    ("hsa-mir-15", "unresolved", ()),          # 15a or 15b: ambiguous, not guessed
    ("hsa-mir-100", "unresolved", ()),         # not the "copy 100" of some hsa-mir family
    ("hsa-mir-10-2", "unresolved", ()),        # single-copy hsa-mir-10 has no copies to fall back on
    ("HA-22.1", "unresolved", ()),
    ("ebv-mir-BART16", "unresolved", ()),
])
def test_name_resolution_rules(mini_mirbase: tuple[Path, dict[str, str]], name: str, rule: str,
                               targets: tuple[str, ...]) -> None:
    directory, seqs = mini_mirbase
    catalogue = load_catalogue(directory)
    got = resolve_name(name, catalogue)
    assert (got.rule, got.targets) == (rule, targets)
    assert got.resolved == bool(targets)
    for target, seq in zip(got.targets, got.sequences, strict=True):
        assert seq == seqs[target.split(" ")[0]]


def test_nonhuman_id_present_in_files_is_used_as_is(mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    directory, seqs = mini_mirbase
    hairpins = directory / "hsa_hairpins_miRBase_v22.fa"
    hairpins.write_text(hairpins.read_text() + ">mmu-mir-20b MI0003536 Mus musculus\nGGGAAACCCUUU\n")
    got = resolve_name("mmu-mir-20b", load_catalogue(directory))
    assert (got.rule, got.sequences) == ("exact", ("GGGAAACCCUUU",))
    assert "mmu-mir-20b" not in load_catalogue(directory).columns  # columns stay human


def test_catalogue_releases_and_columns(mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    directory, _ = mini_mirbase
    catalogue = load_catalogue(directory)
    assert catalogue.current.label == "22"
    assert [r.label for r in catalogue.releases] == ["22", "21"]
    assert catalogue.columns == tuple(sorted(catalogue.columns)) and len(catalogue.columns) == 9
    assert catalogue.releases[1].hairpins["hsa-mir-3607"]  # multi-line FASTA records joined


def test_fasta_validation(tmp_path: Path) -> None:
    f = tmp_path / "hairpin.fa"
    f.write_text(">hsa-mir-1 MI1\nACGTNRY\n")
    assert read_fasta(f) == {"hsa-mir-1": ("MI1", "ACGUNNN")}
    f.write_text(">hsa-mir-1 MI1\nACGU\n>hsa-mir-2 MI2\nAC-GU\n")
    with pytest.raises(DataError, match=r"row 4.*not a nucleotide sequence"):
        read_fasta(f)
    f.write_text("ACGU\n")
    with pytest.raises(DataError, match="before the first '>'"):
        read_fasta(f)


def test_clean_sequence() -> None:
    assert clean_sequence("acgt tu\n", what="x") == "ACGUUU"
    with pytest.raises(DataError, match="other than A, C, G, U, T: N"):
        clean_sequence("ACGN", what="miRNA 'x'")
    with pytest.raises(DataError, match="empty"):
        clean_sequence("  ", what="x")


def test_similarity_is_normalised_symmetric_and_deterministic() -> None:
    rng = np.random.default_rng(3)
    seqs = [_random_rna(rng, n) for n in (60, 75, 90)]
    family = seqs[0][:30] + _random_rna(rng, 10) + seqs[0][40:]
    queries = [*seqs, family]
    sims = similarity_rows(queries, seqs, progress=False)
    np.testing.assert_allclose(np.diag(sims[:3]), 1.0)
    np.testing.assert_allclose(sims[:3], sims[:3].T)
    assert ((sims >= 0) & (sims <= 1)).all()
    assert sims[3, 0] > 0.5 > max(sims[3, 1], sims[3, 2])  # a family member is closer than unrelated RNAs
    np.testing.assert_array_equal(sims, similarity_rows(queries, seqs, progress=False))
    assert not similarity_rows(["NNNN"], ["NNNN", "ACGU"], progress=False).any()  # N matches nothing


def test_view_rows_mean_over_copies_and_unresolved_mean(mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    catalogue = load_catalogue(mini_mirbase[0])
    names = ["hsa-mir-21", "hsa-mir-1", "nonsense", "hsa-mir-1-1", "hsa-mir-1-2"]
    built = build_sequence_view(names, catalogue)
    m = built.matrix
    assert m.shape == (5, 9) and built.columns == catalogue.columns
    np.testing.assert_allclose(m[1], (m[3] + m[4]) / 2)
    np.testing.assert_allclose(m[2], m[[0, 1, 3, 4]].mean(axis=0))
    assert m[0, catalogue.columns.index("hsa-mir-21")] == pytest.approx(1.0)
    assert built.unresolved == ["nonsense"]
    assert built.coverage_by_rule() == {"exact": 3, "copies": 1, "unresolved": 1}


def test_given_sequence_wins_over_name(mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    directory, seqs = mini_mirbase
    catalogue = load_catalogue(directory)
    built = build_sequence_view(["new-mir", "hsa-mir-21"], catalogue, sequences=[seqs["hsa-mir-20b"], None])
    assert built.resolutions[0].rule == "given sequence"
    assert built.matrix[0, catalogue.columns.index("hsa-mir-20b")] == pytest.approx(1.0)
    with pytest.raises(DataError, match="miRNA 'bad'"):
        build_sequence_view(["bad"], catalogue, sequences=["ACGX"])


def test_cache_second_build_is_identical_and_skips_alignment(mini_mirbase: tuple[Path, dict[str, str]],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    directory, _ = mini_mirbase
    catalogue = load_catalogue(directory)
    names = ["hsa-mir-21", "hsa-miR-138-5p", "hsa-mir-3607"]
    first = build_sequence_view(names, catalogue)
    assert not first.from_cache
    assert list((cache_dir() / "views").glob("sequence-*.npz"))

    def boom(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(mirna_mod, "similarity_rows", boom)
    second = build_sequence_view(names, catalogue)
    assert second.from_cache
    np.testing.assert_array_equal(first.matrix, second.matrix)
    # another input (one more name) is another cache key, so it is computed, not served stale
    with pytest.raises(AssertionError, match="recomputed"):
        build_sequence_view([*names, "hsa-mir-1"], catalogue)


def test_corrupt_cache_is_recomputed(mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    directory, _ = mini_mirbase
    catalogue = load_catalogue(directory)
    first = build_sequence_view(["hsa-mir-21"], catalogue)
    for path in (cache_dir() / "views").glob("sequence-*.npz"):
        path.write_bytes(b"not an npz")
    again = build_sequence_view(["hsa-mir-21"], catalogue)
    assert not again.from_cache
    np.testing.assert_array_equal(first.matrix, again.matrix)


def test_mirna_sequence_row(mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    directory, seqs = mini_mirbase
    catalogue = load_catalogue(directory)
    built = build_sequence_view(["hsa-mir-20b", "hsa-mir-138-1", "hsa-mir-138-2"], catalogue)
    row = mirna_sequence_row(seqs["hsa-mir-20b"].replace("U", "t").lower(), mirbase=directory)
    assert row.shape == (1, 9)
    np.testing.assert_allclose(row[0], built.matrix[0])
    # a mature sequence is placed like its name: the mean of the stem-loops that carry it
    mature = mirna_sequence_row(seqs["mature_138"], mirbase=directory)
    np.testing.assert_allclose(mature[0], built.matrix[1:].mean(axis=0))
    with pytest.raises(DataError, match="other than A, C, G, U, T"):
        mirna_sequence_row("ACGUZ", mirbase=directory)


def _without_go(planted):  # type: ignore[no-untyped-def]
    return replace(planted, views={k: v for k, v in planted.views.items() if k != "go"})


def test_ensure_views_sequence_note_and_go_view_name(planted, mini_mirbase) -> None:  # type: ignore[no-untyped-def]
    directory, _ = mini_mirbase
    assert go_view_name(planted) == "go"
    no_go = _without_go(planted)
    assert go_view_name(no_go) == "sequence"
    out = ensure_views(no_go, ["sequence", "expression"], mirbase=directory)
    view = out.view("sequence")
    assert view.entity == "mirna" and view.shape == (planted.n_mirnas, 9)
    assert "STANDS IN FOR the GO" in view.note and "miRNAs resolved" in view.note
    assert ensure_views(out, ["sequence"]) is out  # present views are not recomputed
    with_go = ensure_views(planted, ["sequence"], mirbase=directory)
    assert "STANDS IN" not in with_go.view("sequence").note


def test_ensure_views_errors(planted) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AmmgcError, match="GO similarity view cannot be computed"):
        ensure_views(_without_go(planted), ["go"])
    with pytest.raises(AmmgcError, match="unknown feature view 'gos'"):
        ensure_views(planted, ["gos"])
    with pytest.raises(AmmgcError, match="'fingerprint' is read from the dataset's files"):
        ensure_views(replace(planted, views={}), ["fingerprint"])


def test_mirbase_dir_order_and_download(mini_mirbase: tuple[Path, dict[str, str]], tmp_path_factory,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    directory, _ = mini_mirbase
    other = tmp_path_factory.mktemp("other")
    monkeypatch.setenv("AMMGC_MIRBASE", str(other))
    assert Mirbase(directory).resolve() == directory  # the argument first
    assert Mirbase().resolve() == other  # then the environment
    monkeypatch.setenv("AMMGC_MIRBASE", str(other / "missing"))
    with pytest.raises(DataError, match="AMMGC_MIRBASE"):
        Mirbase().resolve()
    monkeypatch.delenv("AMMGC_MIRBASE")
    # then the cache, filled by a download (here from a local mirror)
    (other / "hairpin.fa").write_bytes((directory / "hsa_hairpins_miRBase_v22.fa").read_bytes())
    (other / "mature.fa").write_bytes((directory / "hsa_matures_miRBase_v22.fa").read_bytes())
    monkeypatch.setattr(Mirbase, "files", tuple(replace(f, url=f"{other.as_uri()}/{f.path}") for f in Mirbase.files))
    cached = Mirbase().resolve()
    assert cached == Mirbase().cache
    assert (cached / "hairpin.fa").read_bytes() == (other / "hairpin.fa").read_bytes()
    assert load_catalogue().current.label == "current"


def test_download_failure_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="give its folder or set AMMGC_MIRBASE"):
        Mirbase().download(tmp_path / "cache", base_url=(tmp_path / "nowhere").as_uri() + "/", progress=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "hairpin.fa").write_text(">cel-mir-1 MI1\nACGU\n")
    with pytest.raises(DownloadError, match="no human"):
        Mirbase().download(tmp_path / "cache", base_url=bad.as_uri() + "/", progress=False)
    assert not (tmp_path / "cache" / "hairpin.fa").exists()


def test_real_mirbase_resolves_benchmark_names(benchmark, mirbase_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalogue = load_catalogue(mirbase_path)  # the subset of releases 22 and 21 in tests/data
    assert catalogue.current.label == "22" and [r.label for r in catalogue.releases] == ["22", "21"]
    resolutions = {n: resolve_name(n, catalogue) for n in benchmark.mirna_names}
    assert resolutions["hsa-miR-138-5p"].targets == ("hsa-mir-138-1", "hsa-mir-138-2")
    assert resolutions["hsa-mir-3607"].rule == "release 21"
    assert resolutions["mmu-mir-20b"].targets == ("hsa-mir-20b",)
    built = build_sequence_view(["hsa-let-7a-1", "hsa-let-7a-2", "hsa-mir-21"], catalogue, progress=False)
    let7 = [catalogue.columns.index(c) for c in ("hsa-let-7a-1", "hsa-let-7a-2", "hsa-let-7b")]
    # let-7 family members score 0.38-1 against let-7a-1; unrelated hairpins score about 0.08 (median)
    assert built.matrix[0, let7].min() > 0.3 > 0.2 > built.matrix[2, let7].max()
    assert np.median(built.matrix[2]) < 0.1


def test_cli_features_info(benchmark_path: Path, mini_mirbase: tuple[Path, dict[str, str]]) -> None:
    import json

    from typer.testing import CliRunner

    from ammgc.cli import app

    args = ["features", "info", "--data", str(benchmark_path), "--mirbase", str(mini_mirbase[0])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "the miRBase 'sequence' view stands in for it" in result.output
    assert "STANDS IN FOR the GO" in result.output
    assert "reproduces 42/106 rows of smiles_code exactly" in result.output
    assert "coverage: " in result.output and "/754 miRNAs resolved" in result.output
    report = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    sequence = next(v for v in report["views"] if v["name"] == "sequence")
    assert sequence["shape"] == [754, 9] and sequence["coverage"]["total"] == 754


def test_a_mirbase_copy_given_for_the_command_is_used_for_the_benchmark_too(tmp_path) -> None:
    """`--mirbase DIR` (``located``) computes the benchmark's sequence view from DIR, not the shipped one."""
    from ammgc import load_benchmark
    from ammgc.data.source import located
    from ammgc.errors import DataError
    from ammgc.features import ensure_views

    benchmark = load_benchmark()
    with located(mirbase=tmp_path / "absent"), pytest.raises(DataError, match="does not exist"):
        ensure_views(benchmark, ["sequence"])
