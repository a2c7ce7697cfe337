"""The downloader against a local HTTP server, where the data comes from, and safe archive unpacking."""

from __future__ import annotations

import http.server
import io
import socket
import stat
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import make_planted_dataset
from typer.testing import CliRunner

from ammgc.data import Benchmark, DataSource, Mirbase, Ncdr, TargetNetworks, resolve_data_path
from ammgc.data.benchmark import GO_FILE, is_benchmark_dir, load_benchmark
from ammgc.data.download import extract_archive
from ammgc.data.source import FetchResult, SourceFile
from ammgc.errors import DataError, DownloadError
from ammgc.io import file_blob_sha1, git_blob_sha1

REQUIRED = [f for f in Benchmark.files if f.required]


class Mirror:
    """What the local server serves: ``files`` by path, plus scripted failures per path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.truncate: dict[str, int] = {}  # path -> how many more responses to truncate
        self.status: dict[str, list[int]] = {}  # path -> HTTP statuses to answer first, in order
        self.requests: Counter[str] = Counter()
        self.url = ""


class _Handler(http.server.BaseHTTPRequestHandler):
    mirror: Mirror

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = unquote(self.path.lstrip("/"))
        mirror = self.mirror
        mirror.requests[path] += 1
        if mirror.status.get(path):
            code = mirror.status[path].pop(0)
            self.send_error(code)
            return
        if path not in mirror.files:
            self.send_error(404)
            return
        body = mirror.files[path]
        declared = len(body)
        if mirror.truncate.get(path, 0) > 0:
            mirror.truncate[path] -= 1
            declared += 1000  # the server promises more than it sends, then hangs up
        self.send_response(200)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        pass


@pytest.fixture(scope="module")
def published(benchmark_path: Path) -> dict[str, bytes]:
    return {f.path: (benchmark_path / f.path).read_bytes() for f in REQUIRED}


@pytest.fixture
def mirror(published: dict[str, bytes]) -> Iterator[Mirror]:
    state = Mirror(dict(published))
    handler = type("Handler", (_Handler,), {"mirror": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield state
    server.shutdown()
    server.server_close()


def fetch(mirror: Mirror, dest: Path, **kw: object) -> list[FetchResult]:
    options = {"base_url": mirror.url, "progress": False, "backoff_s": 0.0, "timeout_s": 10.0, **kw}
    return Benchmark().download(dest, **options)


def with_go_hash(content: bytes) -> tuple[SourceFile, ...]:
    """The manifest with the GO file's hash set to that of ``content`` (the real file is not at hand)."""
    digest = git_blob_sha1(content)
    return tuple(replace(f, blob_sha1=digest) if f.path == GO_FILE else f for f in Benchmark.files)


def leftovers(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.is_file()]


def test_good_download_is_verified_loadable_and_then_cached(mirror: Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    results = fetch(mirror, dest)
    status = {r.path: r.status for r in results}
    assert all(status[f.path] == "downloaded" for f in REQUIRED)
    assert status[GO_FILE] == "absent"  # the GO file is optional: a 404 is not an error
    for f in REQUIRED:
        assert file_blob_sha1(dest / f.path) == f.blob_sha1
    dataset = load_benchmark(dest, verify=True)
    assert (dataset.n_drugs, dataset.n_mirnas, dataset.n_associations) == (106, 754, 3338)
    assert not [p for p in leftovers(dest) if p.name.endswith(".part")]

    mirror.requests.clear()
    again = fetch(mirror, dest)
    assert {r.path: r.status for r in again if r.path != GO_FILE} == {f.path: "cached" for f in REQUIRED}
    assert set(mirror.requests) == {GO_FILE}


def test_corrupted_file_is_refused_and_nothing_is_left(mirror: Mirror, tmp_path: Path) -> None:
    name = "features/drug_labelencoding.txt"
    body = bytearray(mirror.files[name])
    body[100] ^= 1
    mirror.files[name] = bytes(body)
    dest = tmp_path / "cache"
    with pytest.raises(DownloadError, match="does not match the published file.*nothing was saved"):
        fetch(mirror, dest)
    assert mirror.requests[name] == 1  # a complete transfer with the wrong content is not retried
    assert not (dest / name).exists()
    assert not [p for p in leftovers(dest) if p.name.endswith(".part")]
    assert not is_benchmark_dir(dest)  # the marker file is written last: the cache is not taken as complete


def test_truncated_transfer_is_retried_then_reported(mirror: Mirror, tmp_path: Path) -> None:
    name = "features/drug_list.xlsx"
    mirror.truncate[name] = 99
    dest = tmp_path / "cache"
    with pytest.raises(DownloadError, match=r"after 3 attempts \(transfer truncated") as err:
        fetch(mirror, dest, retries=2)
    assert mirror.requests[name] == 3
    assert not (dest / name).exists()
    # the what-to-do list names only what is still missing
    assert "drug_list.xlsx  ->" in str(err.value) and "drug_feature_matrix.txt  ->" not in str(err.value)


def test_transient_failures_recover_within_the_retries(mirror: Mirror, tmp_path: Path) -> None:
    mirror.truncate["features/drug_list.xlsx"] = 1
    mirror.status["features/miRNA_list.xlsx"] = [503, 500]
    dest = tmp_path / "cache"
    results = fetch(mirror, dest, retries=2)
    assert {r.status for r in results if r.path != GO_FILE} == {"downloaded"}
    assert mirror.requests["features/drug_list.xlsx"] == 2
    assert mirror.requests["features/miRNA_list.xlsx"] == 3


def test_missing_required_file_is_a_clear_error(mirror: Mirror, tmp_path: Path) -> None:
    del mirror.files["features/drug_feature_matrix.txt"]
    with pytest.raises(DownloadError, match=r"drug_feature_matrix\.txt: not found \(HTTP 404\)") as err:
        fetch(mirror, tmp_path / "cache")
    assert mirror.requests["features/drug_feature_matrix.txt"] == 1
    assert "Download these files yourself into" in str(err.value)


def test_permanent_http_error_is_not_retried(mirror: Mirror, tmp_path: Path) -> None:
    mirror.status["features/drug_miRNA.csv"] = [403, 403, 403]
    with pytest.raises(DownloadError, match="HTTP 403"):
        fetch(mirror, tmp_path / "cache")
    assert mirror.requests["features/drug_miRNA.csv"] == 1


def test_no_network_says_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dest = tmp_path / "cache"
    with pytest.raises(DownloadError) as err:
        Benchmark().download(dest, base_url=f"http://127.0.0.1:{port}", progress=False, retries=1, backoff_s=0.0)
    message = str(err.value)
    assert "after 2 attempts" in message
    assert f"Download these files yourself into {dest}" in message
    assert "AMMGC_DATA" in message
    assert f"http://127.0.0.1:{port}/features/drug_list.xlsx  ->  {dest / 'features/drug_list.xlsx'}" in message
    assert f"http://127.0.0.1:{port}/features/ncrna_GOsimilarity_full.txt" in message  # optional, listed last


def test_a_local_directory_can_be_the_mirror(benchmark_path: Path, tmp_path: Path) -> None:
    results = Benchmark().download(tmp_path / "cache", base_url=benchmark_path.as_uri(), progress=False,
                                   retries=0, include_go=False)
    assert {r.status for r in results} == {"downloaded"}
    assert is_benchmark_dir(tmp_path / "cache")


@pytest.mark.parametrize("url", ["example.org/mirror", "ftp://example.org/", "127.0.0.1:8000"])
def test_mirror_url_without_a_usable_scheme(tmp_path: Path, url: str) -> None:
    with pytest.raises(DownloadError, match="must start with http://"):
        Benchmark().download(tmp_path / "cache", base_url=url, progress=False)
    assert not (tmp_path / "cache").exists()


def test_go_file_is_fetched_and_verified_when_reachable(mirror: Mirror, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    go = b"0.5\t1\n1\t0.5\n"
    monkeypatch.setattr(Benchmark, "files", with_go_hash(go))
    mirror.files[GO_FILE] = go
    results = fetch(mirror, tmp_path / "a")
    assert {r.path: r.status for r in results}[GO_FILE] == "downloaded"
    assert (tmp_path / "a" / GO_FILE).read_bytes() == go
    assert {r.path for r in fetch(mirror, tmp_path / "b", include_go=False)}.isdisjoint({GO_FILE})

    mirror.files[GO_FILE] = go + b"0\t0\n"
    with pytest.raises(DownloadError, match="does not match"):
        fetch(mirror, tmp_path / "c")
    assert not (tmp_path / "c" / GO_FILE).exists()


def test_a_damaged_cached_file_is_replaced(mirror: Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    fetch(mirror, dest)
    (dest / "drug-miRNA.txt").write_text("1\t1\t1\n")
    results = {r.path: r.status for r in fetch(mirror, dest)}
    assert results["drug-miRNA.txt"] == "downloaded"
    assert file_blob_sha1(dest / "drug-miRNA.txt") == {f.path: f.blob_sha1 for f in REQUIRED}["drug-miRNA.txt"]


def test_cli_fetch_uses_the_mirror_from_the_environment(mirror: Mirror, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ammgc.cli import app

    monkeypatch.setenv("AMMGC_BASE_URL", mirror.url)
    dest = tmp_path / "cache"
    result = CliRunner().invoke(app, ["data", "fetch", "--dest", str(dest), "--retries", "0"])
    assert "downloaded drug-miRNA.txt" in result.output.replace("  ", " ").replace("  ", " ")
    assert "GO similarity file not available" in result.output
    assert "ncDR table not available" in result.output   # the mirror does not hold it
    assert is_benchmark_dir(dest)                        # what could be fetched is kept
    # asked for, not fetched: the exit status says so
    assert result.exit_code == 1, result.output
    assert f"not fetched: {GO_FILE}, {Ncdr.files[0].path}" in result.output
    result = CliRunner().invoke(app, ["data", "fetch", "--dest", str(dest), "--retries", "0", "--no-go", "--no-ncdr"])
    assert result.exit_code == 0, result.output


def test_cli_fetch_gets_the_ncdr_table_into_the_cache_verified(mirror: Mirror, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import NCDR_SUBSET

    from ammgc.cli import app

    # the subset in tests/data stands in for the published table
    spec = replace(Ncdr.files[0], blob_sha1=file_blob_sha1(NCDR_SUBSET))
    monkeypatch.setattr(Ncdr, "files", (spec,))
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMMGC_BASE_URL", mirror.url)
    mirror.files[spec.path] = NCDR_SUBSET.read_bytes()
    result = CliRunner().invoke(app, ["data", "fetch", "--dest", str(tmp_path / "bench"), "--retries", "0",
                                      "--no-go"])
    assert result.exit_code == 0, result.output
    assert file_blob_sha1(Ncdr().cache / spec.path) == spec.blob_sha1
    mirror.files[spec.path] = b"PMID\n1\n"
    result = CliRunner().invoke(app, ["data", "fetch", "--dest", str(tmp_path / "bench"), "--retries", "0",
                                      "--no-go", "--force"])
    assert isinstance(result.exception, DownloadError) and "does not match" in str(result.exception)
    assert file_blob_sha1(Ncdr().cache / spec.path) == spec.blob_sha1   # the verified copy is kept


# --- where the data comes from -------------------------------------------------------------------

def test_data_option_beats_environment_beats_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given, env, home = tmp_path / "given", tmp_path / "env", tmp_path / "home"
    for d in (given, env, home / "gcmdr"):
        d.mkdir(parents=True)
    (home / "gcmdr" / "drug-miRNA.txt").write_text("1\t1\t1\n")
    monkeypatch.setenv("AMMGC_HOME", str(home))
    monkeypatch.setenv("AMMGC_DATA", str(env))
    assert resolve_data_path(given) == given
    assert resolve_data_path(None) == env
    monkeypatch.delenv("AMMGC_DATA")
    assert resolve_data_path(None) == home / "gcmdr"


def test_load_benchmark_is_the_benchmark_whatever_own_data_the_environment_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "mydata"
    own.mkdir()
    (own / "associations.csv").write_text("drug,mirna,label\nCisplatin,hsa-mir-21,1\n")
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMMGC_DATA", str(own))
    dataset = load_benchmark()
    assert (dataset.n_drugs, dataset.n_mirnas) == (106, 754)
    assert dataset.source == str(tmp_path / "home" / "gcmdr")


def test_missing_paths_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="data path does not exist \\(given\\)"):
        resolve_data_path(tmp_path / "nope")
    monkeypatch.setenv("AMMGC_DATA", str(tmp_path / "nope"))
    with pytest.raises(DataError, match="set by AMMGC_DATA"):
        resolve_data_path(None)


@pytest.mark.parametrize("source", [Mirbase, Ncdr, TargetNetworks], ids=lambda c: c.__name__)
def test_every_source_is_found_in_one_order_and_fetch_false_stays_offline(
        source: type[DataSource], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path given, then the environment variable, then a complete cache; with none of them and
    ``fetch=False`` an error naming the ways to give one, and no download."""
    given, env, home = tmp_path / "given", tmp_path / "env", tmp_path / "home"
    for d in (given, env, home / source.cache_name):
        d.mkdir(parents=True)
        for f in source.files:
            (d / f.path).write_text("x\n")
    monkeypatch.setenv("AMMGC_HOME", str(home))
    monkeypatch.setenv(source.env, str(env))
    monkeypatch.setattr(source, "download", lambda *a, **k: pytest.fail("fetch=False downloaded"))
    assert source(given).resolve(fetch=False) == given
    assert source().resolve(fetch=False) == env
    monkeypatch.setenv(source.env, str(tmp_path / "nope"))
    with pytest.raises(DataError, match=f"set by {source.env}"):
        source().resolve(fetch=False)
    monkeypatch.delenv(source.env)
    assert source().resolve(fetch=False) == home / source.cache_name
    for f in source.files:
        (home / source.cache_name / f.path).unlink()
    with pytest.raises(DataError, match=f"no copy of {source.title}: .*{source.env}.*`ammgc data fetch"):
        source().resolve(fetch=False)


def test_empty_cache_is_filled_from_the_embedded_benchmark_without_network(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMMGC_DATA", raising=False)
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMMGC_BASE_URL", "http://127.0.0.1:9")  # nothing listens: a download would fail
    path = resolve_data_path(None, fetch=False)
    assert path == tmp_path / "home" / "gcmdr"
    for spec in Benchmark.files:
        if spec.required:
            assert file_blob_sha1(path / spec.path) == spec.blob_sha1
    from ammgc.data import load_dataset

    dataset = load_dataset(None)
    assert (dataset.n_drugs, dataset.n_mirnas, dataset.n_associations) == (106, 754, 3338)


def test_a_corrupt_embedded_copy_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lzma

    from ammgc.data import Benchmark, embedded

    shipped = Benchmark().shipped
    spec = shipped[0]
    bad = tmp_path / "pkg" / f"{spec.path}.xz"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(lzma.compress(b"1\t1\t1\n"))
    original = embedded._packaged
    monkeypatch.setattr(embedded, "_packaged", lambda s: bad if s == spec else original(s))
    with pytest.raises(DataError, match="does not match the published file"):
        embedded.unpack_benchmark(tmp_path / "cache", shipped)
    assert not (tmp_path / "cache" / spec.path).exists()


def test_without_the_embedded_copy_an_empty_cache_is_downloaded(mirror: Mirror, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ammgc.data import benchmark

    monkeypatch.setattr(benchmark, "embedded_available", lambda specs: False)
    monkeypatch.delenv("AMMGC_DATA", raising=False)
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    with pytest.raises(DataError, match="ammgc data fetch"):
        resolve_data_path(None, fetch=False)
    monkeypatch.setenv("AMMGC_BASE_URL", mirror.url)
    path = resolve_data_path(None)
    assert path == tmp_path / "home" / "gcmdr"
    assert is_benchmark_dir(path)


# --- unpacking the optional archive ---------------------------------------------------------------

def make_zip(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_archive_is_unpacked(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"data/x.txt": b"x", "y.txt": b"y", "data/sub/": b""})
    out = extract_archive(archive, tmp_path / "out")
    assert (out / "data" / "x.txt").read_bytes() == b"x"
    assert (out / "y.txt").read_bytes() == b"y"


@pytest.mark.parametrize("member", ["../evil.txt", "data/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt",
                                    "C:/evil.txt"])
def test_archive_refuses_path_traversal(tmp_path: Path, member: str) -> None:
    archive = make_zip(tmp_path / "a.zip", {"fine.txt": b"ok", member: b"evil"})
    target = tmp_path / "deep" / "out"
    with pytest.raises(DataError, match="unsafe archive member"):
        extract_archive(archive, target)
    assert not target.exists()
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "deep" / "evil.txt").exists()
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["a.zip"]


def test_archive_refuses_symlinks_bombs_and_junk(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="symbolic link"):
        extract_archive(make_zip(tmp_path / "l.zip", {"a": b"a"}, symlink="link"), tmp_path / "o1")
    with pytest.raises(DataError, match="more than the 100 allowed"):
        extract_archive(make_zip(tmp_path / "b.zip", {"big": b"0" * 101}), tmp_path / "o2", max_bytes=100)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip archive"):
        extract_archive(tmp_path / "junk.zip", tmp_path / "o3")
    assert not any((tmp_path / o).exists() for o in ("o1", "o2", "o3"))


def test_archive_fetch_unpacks_and_adopts_the_go_file(mirror: Mirror, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    go = b"0.25\t1\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("miRNA-drug data/ncrna_GOsimilarity_full.txt", go)
    archive_bytes = buffer.getvalue()
    archive = replace(Benchmark.archive, blob_sha1=git_blob_sha1(archive_bytes))
    monkeypatch.setattr(Benchmark, "archive", archive)
    monkeypatch.setattr(Benchmark, "files", with_go_hash(go))
    mirror.files[archive.path] = archive_bytes
    dest = tmp_path / "cache"
    results = {r.path: r.status for r in fetch(mirror, dest, with_archive=True)}
    assert results[archive.path] == "downloaded"
    assert mirror.requests["features/miRNA-drug data.zip"] == 1  # the space is URL-encoded and decoded back
    unpacked = dest / "features" / "miRNA-drug data"
    assert (unpacked / "miRNA-drug data" / "ncrna_GOsimilarity_full.txt").is_file()
    assert (dest / GO_FILE).read_bytes() == go


def test_an_archive_that_failed_verification_is_never_unpacked(mirror: Mirror, tmp_path: Path) -> None:
    """A planted zip at the archive's path, the mirror unable to serve the real one: it stays packed, and the
    folder of an earlier unpacking is left as it was."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("miRNA-drug data/planted.txt", b"not the authors' file")
    dest = tmp_path / "cache"
    planted = dest / Benchmark.archive.path
    planted.parent.mkdir(parents=True)
    planted.write_bytes(buffer.getvalue())
    earlier = dest / "features" / "miRNA-drug data"
    earlier.mkdir()
    (earlier / "kept.txt").write_text("from an earlier, verified unpacking\n")
    mirror.status[Benchmark.archive.path] = [404]
    results = {r.path: r.status for r in fetch(mirror, dest, with_archive=True)}
    assert results[Benchmark.archive.path] == "absent"
    assert sorted(p.name for p in earlier.iterdir()) == ["kept.txt"]


def test_cli_fetch_prepares_mirbase_for_offline_use(mirror: Mirror, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ammgc.cli import app

    monkeypatch.delenv("AMMGC_MIRBASE", raising=False)
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMMGC_BASE_URL", mirror.url)
    required = [f.path for f in Mirbase.files if f.required]

    def fake_download(source: Mirbase, **kwargs: object) -> None:
        source.cache.mkdir(parents=True, exist_ok=True)
        for name in required:
            (source.cache / name).write_text(">hsa-mir-1 MI0000651\nACGU\n")

    monkeypatch.setattr(Mirbase, "download", fake_download)
    args = ["data", "fetch", "--dest", str(tmp_path / "bench"), "--retries", "0", "--no-go", "--no-ncdr"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"miRBase ready in {Mirbase().cache}" in result.output

    def no_network(source: Mirbase, **kwargs: object) -> None:
        raise DownloadError("could not download hairpin.fa (no network)")

    monkeypatch.setattr(Mirbase, "download", no_network)
    for name in required:
        (Mirbase().cache / name).unlink()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "miRBase not available" in result.output
    assert "not fetched: miRBase" in result.output


def test_without_mirbase_or_network_the_benchmark_keeps_the_default_model_and_own_data_runs_on_its_views(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, the benchmark's `sequence` view and publications come from the package: the default model is
    the default model. Own data without miRBase trains on the views it has and says so; views the user chose
    stay errors."""
    import json

    from ammgc import AMMGC, PairSplit, load_benchmark
    from ammgc.experiments.cv import run_cv

    def no_network(source: Mirbase, **kwargs: object) -> None:
        raise DownloadError("could not download hairpin.fa (no network)")

    monkeypatch.delenv("AMMGC_MIRBASE", raising=False)
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(Mirbase, "download", no_network)
    tiny = {"epochs_gcn": 2, "epochs_attention": 2, "hidden": [8]}
    # the benchmark's sequence view ships: no miRBase needed, no warning, the default model
    body = run_cv(AMMGC(**tiny), load_benchmark(), PairSplit(2, 1), out=tmp_path / "cv")
    assert body["views"]["mirna"] == ["expression", "sequence"] and "warning" not in body["views"]
    written = json.loads((tmp_path / "cv" / "metrics.json").read_text())
    assert "warning" not in written["views"]
    assert "not the default model's" not in (tmp_path / "cv" / "report.md").read_text()

    planted = make_planted_dataset()
    own = replace(planted, views={k: v for k, v in planted.views.items() if k != "go"})
    with pytest.warns(UserWarning, match="'sequence' is left out"):
        body = run_cv(AMMGC(**tiny), own, PairSplit(2, 1), out=tmp_path / "own")
    assert body["views"]["mirna"] == ["expression"] and "'sequence' is left out" in body["views"]["warning"]

    model = AMMGC(**tiny).fit(load_benchmark())
    assert model.mirna_views == ["expression", "sequence"] and model.prior_counts_ == "studies"
    assert "shipped in the package" in model.dataset_.view("sequence").source
    with pytest.raises(DownloadError, match="no network"):
        AMMGC(**tiny, mirna_views=["go"], drug_features="files").fit(own)


def test_a_host_that_refused_every_retry_is_tried_once_for_the_rest_of_the_process(monkeypatch) -> None:
    """Offline, a run of many folds looks its sources up once per fold: it waits out the retries once."""
    import ammgc.data.download as download

    calls: list[str] = []

    def refused(url: str, **kwargs: object) -> bytes:
        calls.append(url)
        raise download.Unreachable("connection refused", no_connection=True)

    monkeypatch.setattr(download, "_get", refused)
    monkeypatch.setattr(download, "_NO_CONNECTION", set())
    pauses: list[float] = []
    monkeypatch.setattr(download.time, "sleep", pauses.append)
    with pytest.raises(download.Unreachable) as first:
        download.download_bytes("http://example.org/a", retries=3, backoff_s=1.0)
    assert (first.value.attempts, len(calls), pauses) == (4, 4, [1.0, 2.0, 4.0])
    with pytest.raises(download.Unreachable) as second:
        download.download_bytes("http://example.org/b", retries=3, backoff_s=1.0)
    assert (second.value.attempts, len(calls), len(pauses)) == (1, 5, 3)
    # another host keeps its retries
    with pytest.raises(download.Unreachable):
        download.download_bytes("http://example.net/a", retries=1, backoff_s=0.0)
    assert len(calls) == 7
