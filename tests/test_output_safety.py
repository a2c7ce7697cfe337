"""Outputs are written atomically; a bad output location, a full device or a diverging loss stops the run
with one clear line (exit code 2), as early as possible, and never leaves results that look valid."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import run_cli

from ammgc.cli.common import run_app
from ammgc.errors import AmmgcError
from ammgc.io import PROBE_BYTES, atomic_open, atomic_write_text, ensure_writable_dir, remove_stale_parts

SHORT = ["-o", "epochs_gcn=15", "-o", "epochs_attention=15", "-o", "hidden=[16,16]",
         "-o", 'mirna_views=["expression"]', "--repeats", "1", "--folds", "2"]




def error_lines(stderr: str) -> list[str]:
    lines = [line for chunk in stderr.splitlines() for line in chunk.split("\r")]
    return [line for line in lines if line.startswith("error:")]


def leftovers(out: Path) -> list[Path]:
    """Anything in ``out`` that could be taken for a result, or a temporary left behind."""
    return [*out.rglob("*.part"), *out.rglob("r*_f*.json"), *out.glob("metrics.json")]


def test_atomic_open_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("old")
    for failure in (OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()):
        with pytest.raises(type(failure)), atomic_open(target) as handle:
            handle.write("half of the new")
            raise failure
        assert target.read_text() == "old"
        assert os.listdir(tmp_path) == ["metrics.json"]


def test_atomic_files_get_ordinary_permissions(tmp_path: Path) -> None:
    """mkstemp's private 0600 must not leak into results; a replaced file keeps its mode."""
    umask = os.umask(0o022)
    os.umask(umask)
    new = tmp_path / "report.md"
    atomic_write_text(new, "x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    kept = tmp_path / "shared.md"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


def test_only_atomic_temporaries_are_cleaned(tmp_path: Path) -> None:
    ours = [tmp_path / ".metrics.json.a1b2_c3d.part", tmp_path / ".r00_f01.json.zzzzzzzz.part"]
    theirs = [tmp_path / "download.part", tmp_path / ".notes.part", tmp_path / "r00_f00.json"]
    for path in ours + theirs:
        path.write_text("x")
    assert sorted(remove_stale_parts(tmp_path)) == sorted(ours)
    assert sorted(tmp_path.iterdir()) == sorted(theirs)


def test_probe_fails_on_a_device_with_no_room(tmp_path: Path) -> None:
    """The writability check writes real bytes, so a full device is caught before any work.

    A file-size limit below the probe's size makes the kernel refuse the write as a full device would
    (RLIMIT_FSIZE needs no privileges; Python ignores the SIGXFSZ it raises).
    """
    script = ("import resource, sys\n"
              f"resource.setrlimit(resource.RLIMIT_FSIZE, ({PROBE_BYTES // 2}, resource.RLIM_INFINITY))\n"
              "from ammgc.io import ensure_writable_dir\n"
              "from ammgc.errors import AmmgcError\n"
              "try:\n    ensure_writable_dir(sys.argv[1])\n"
              "except AmmgcError as exc:\n    print(exc)\n    sys.exit(2)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not writable: File too large" in done.stdout
    assert os.listdir(tmp_path / "out") == []


def test_output_under_a_file_fails_before_any_work(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("data was loaded before the output location was checked")

    monkeypatch.setattr("ammgc.cli.cv.load_data", no_work)
    code, stderr = run_cli(monkeypatch, capsys, "cv", "--method", "popularity", "--out", str(blocker / "run"))
    assert code == 2
    expected = f"error: output directory {blocker / 'run'} is not writable: Not a directory"
    assert error_lines(stderr) == [expected]
    with pytest.raises(AmmgcError, match="not writable"):
        ensure_writable_dir(blocker)


def test_device_full_mid_run_is_one_line_and_leaves_no_result(
        benchmark_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """The device fills up after the probe: the first fold's file cannot be synced."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.fstat(fd).st_size > PROBE_BYTES:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "run"
    code, stderr = run_cli(monkeypatch, capsys, "cv", "--data", str(benchmark_path), "--method", "popularity",
                           "--repeats", "1", "--folds", "2", "--out", str(out))
    assert code == 2
    [line] = error_lines(stderr)
    # with two fold processes either fold may be the first to finish
    assert any(line.startswith(f"error: cannot write {out / 'folds' / f'r00_f0{k}.json'}: No space left on device")
               for k in (0, 1)), line
    assert "Traceback" not in stderr
    assert leftovers(out) == []


def test_diverging_loss_stops_with_stage_and_epoch_and_writes_no_metrics(
        benchmark_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stderr = run_cli(monkeypatch, capsys, "cv", "--data", str(benchmark_path), "--method", "ammgc",
                           "-o", "lr=1e30", *SHORT, "--jobs", "1", "--out", str(out))
    assert code == 2
    [line] = error_lines(stderr)
    assert line.startswith("error: repeat 0, fold 0: GCN sub-network (modal 1): loss became nan at epoch ")
    assert "Traceback" not in stderr
    assert leftovers(out) == []


@pytest.mark.parametrize(("raised", "code", "message"), [
    (KeyboardInterrupt(), 130, "interrupted; nothing half-written was left in place"),
    (typer.Exit(3), 3, ""),  # e.g. `data check --strict` finding warnings: the code must reach the shell
    (AmmgcError("bad input"), 2, "error: bad input"),
    (typer.BadParameter("must be pair, drug or mirna"), 2, "Error: Invalid value: must be pair, drug or mirna"),
])
def test_error_boundary_exit_codes(raised: BaseException, code: int, message: str,
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["ammgc"])
    app = typer.Typer()

    @app.command()
    def fail() -> None:
        raise raised

    with pytest.raises(SystemExit) as exit_info:
        run_app(app)
    assert exit_info.value.code == code
    last_line = (capsys.readouterr().err.strip().splitlines() or [""])[-1]
    assert last_line == message


@pytest.mark.parametrize("args", [["cv", "--method", "bogus"], ["cv", "-o", "nonsense=1"],
                                  ["compare", "--methods", "ammgc,bogus"]])
def test_a_rejected_option_leaves_no_empty_output_folder(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         args: list[str]) -> None:
    out = tmp_path / "new" / "out"
    code, stderr = run_cli(monkeypatch, capsys, *args, "--out", str(out))
    assert code == 2 and len(error_lines(stderr)) == 1
    assert not (tmp_path / "new").exists()


def test_version_and_one_jobs_option_everywhere(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    from ammgc import __version__
    from ammgc.cli import app

    assert CliRunner().invoke(app, ["--version"]).output.strip() == f"ammgc {__version__}"
    for command in (["cv"], ["compare"], ["tune"], ["experiment", "ablation"], ["experiment", "sensitivity"]):
        text = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output
        line = next(row for row in text.splitlines() if "--jobs" in row)
        assert "0: one per core" in line and "[default: 0]" in line, (command, line)


def test_help_states_the_model_defaults() -> None:
    from ammgc.cli.common import AMMGC_DEFAULTS
    from ammgc.models.ammgc import AMMGC

    assert {k: getattr(AMMGC.Config(), k) for k in AMMGC_DEFAULTS} == AMMGC_DEFAULTS
