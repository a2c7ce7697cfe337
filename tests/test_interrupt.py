"""Interrupted `ammgc cv` runs: killed mid-way (SIGINT, then SIGKILL) and rerun, they keep every finished
fold, leave no half-written file, and end with exactly the numbers of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ammgc.cli import main
from ammgc.cli.common import parse_options
from ammgc.data import load_dataset
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, TrainingError
from ammgc.evaluation import runner
from ammgc.evaluation.splits import Fold, PairSplit
from ammgc.evaluation.store import FoldStore
from ammgc.experiments.cv import run_cv
from ammgc.models.ammgc import AMMGC

SEED = 3
REPEATS, FOLDS = 2, 2
# the benchmark's own drug feature files: no fingerprints to compute from SMILES in each process
OPTIONS = ["epochs_gcn=5", "epochs_attention=5", "hidden=[16,16]", 'mirna_views=["expression"]', "drug_features=files"]
# The machine running the tests may be shared and loaded: generous limits, never a fixed sleep.
START_TIMEOUT_S = 300
EXIT_TIMEOUT_S = 120


def cv_args(data: Path, out: Path) -> list[str]:
    options = [arg for item in OPTIONS for arg in ("-o", item)]
    return ["cv", "--data", str(data), "--method", "ammgc", *options,
            "--repeats", str(REPEATS), "--folds", str(FOLDS), "--seed", str(SEED), "--out", str(out)]


class Run:
    """One `ammgc cv` subprocess with its output in files (a full pipe could stall it)."""

    def __init__(self, data: Path, out: Path, log: Path) -> None:
        self.stdout, self.stderr = log.with_suffix(".out"), log.with_suffix(".err")
        with self.stdout.open("wb") as out_file, self.stderr.open("wb") as err_file:
            # its own process group, so Ctrl-C can reach it and its fold processes together, as a terminal does
            self.proc = subprocess.Popen([sys.executable, "-m", "ammgc", *cv_args(data, out)], stdout=out_file,
                                         stderr=err_file, start_new_session=True)

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def wait_until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"ammgc cv ended (exit {self.proc.returncode}) too soon:\n{self.output()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"no fold finished within {START_TIMEOUT_S} s:\n{self.output()}")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals, *, group: bool = False) -> int:
        """Send ``sig`` to the run, or with ``group`` to it and its fold processes (a terminal's Ctrl-C)."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=EXIT_TIMEOUT_S)


def child_processes(pid: int) -> list[int]:
    """Linux: the processes ``pid`` started (empty where /proc does not say)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in children.read_text().split()] if children.exists() else []


def fold_files(out: Path) -> dict[str, Path]:
    return {p.name: p for p in (out / "folds").glob("r*_f*.json")}


def snapshot(paths: dict[str, Path]) -> dict[str, tuple[int, bytes]]:
    return {name: (p.stat().st_mtime_ns, p.read_bytes()) for name, p in paths.items()}


def without_seconds(body: dict) -> dict:
    """A metrics.json or fold record minus wall-clock times, the only thing allowed to differ."""
    body = dict(body)
    body.pop("seconds", None)
    if "folds" in body:
        body["folds"] = [without_seconds(f) for f in body["folds"]]
    for key in ("mean", "std"):
        if key in body:
            body[key] = {m: v for m, v in body[key].items() if m != "seconds"}
    return body


@pytest.fixture(scope="module")
def uninterrupted(benchmark_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run, never interrupted (in this process, so fresh processes must match it too)."""
    out = tmp_path_factory.mktemp("uninterrupted")
    run_cv(AMMGC(**parse_options(OPTIONS)), load_dataset(benchmark_path), PairSplit(FOLDS, REPEATS, SEED), out=out)
    return out


@pytest.mark.slow
def test_killed_runs_resume_to_the_uninterrupted_result(benchmark_path: Path, uninterrupted: Path,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    total = REPEATS * FOLDS

    # 1. Ctrl-C once the first fold is stored: exit 130, finished folds kept, nothing half-written, and no
    # traceback from the fold processes, which got the Ctrl-C too.
    first = Run(benchmark_path, out, tmp_path / "first")
    first.wait_until(lambda: len(fold_files(out)) >= 1)
    code = first.stop(signal.SIGINT, group=True)
    assert code == 130, first.output()
    assert "interrupted; finished folds are kept and a rerun resumes" in first.output()
    assert "Traceback" not in first.output()
    kept = snapshot(fold_files(out))
    assert 1 <= len(kept) < total
    fingerprint = (out / "folds" / "RUN").read_text().strip()
    assert all(json.loads(body)["fingerprint"] == fingerprint for _, body in kept.values())
    assert not list(out.rglob("*.part"))
    assert not (out / "metrics.json").exists()

    # 2. The rerun resumes; kill it outright (no chance to clean up) once it has stored a fold of its own.
    second = Run(benchmark_path, out, tmp_path / "second")
    second.wait_until(lambda: len(fold_files(out).keys() - kept.keys()) >= 1)
    workers = child_processes(second.proc.pid)
    assert second.stop(signal.SIGKILL) == -signal.SIGKILL
    # its fold processes notice and exit instead of waiting for work forever
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "orphaned fold processes"
    assert f"resuming: {len(kept)} of {total} folds already done" in second.output()
    assert not (out / "metrics.json").exists()
    # What a kill during a write leaves: atomic_open's hidden temporary, and (from a careless writer) a
    # truncated fold file. Neither may be taken for a result.
    stale = out / "folds" / ".r01_f01.json.k1ll3d_x.part"
    stale.write_text('{"repeat": 1, "fold": 1, "aupr": 0.9')
    damaged_name = sorted(fold_files(out).keys() - kept.keys())[0]
    damaged = fold_files(out)[damaged_name]
    damaged.write_bytes(damaged.read_bytes()[:100])
    valid = len(fold_files(out)) - 1

    # 3. The last rerun (in this process, to spare a third start-up) completes: old folds untouched, the
    # damaged one redone, temporaries gone.
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["ammgc", *cv_args(benchmark_path, out)])
    main()
    assert f"resuming: {valid} of {total} folds already done" in capsys.readouterr().err
    assert snapshot({name: fold_files(out)[name] for name in kept}) == kept
    assert json.loads(damaged.read_text())["fingerprint"] == fingerprint
    assert not stale.exists()
    assert not list(out.rglob("*.part"))

    # 4. Exactly the uninterrupted run's numbers, fold by fold, curves included.
    assert without_seconds(json.loads((out / "metrics.json").read_text())) == \
        without_seconds(json.loads((uninterrupted / "metrics.json").read_text()))
    reference = fold_files(uninterrupted)
    assert fold_files(out).keys() == reference.keys()
    for name, path in fold_files(out).items():
        resumed, uninterrupted_fold = (json.loads(p.read_text()) for p in (path, reference[name]))
        assert without_seconds(resumed) == without_seconds(uninterrupted_fold)


def test_second_concurrent_run_is_refused(tmp_path: Path) -> None:
    """Two runs writing the same folds would race (and one would delete the other's temporaries)."""
    holder = FoldStore(tmp_path, "abc")
    try:
        with pytest.raises(AmmgcError, match="another ammgc run is writing to"):
            FoldStore(tmp_path, "abc")
    finally:
        holder.close()
    FoldStore(tmp_path, "abc").close()  # released: the next run proceeds


def test_store_removes_temporaries_of_a_killed_run(tmp_path: Path) -> None:
    folds = tmp_path / "folds"
    folds.mkdir()
    stale = folds / ".r00_f00.json.abcdefgh.part"
    stale.write_text('{"repeat": 0, "fo')
    store = FoldStore(tmp_path, "abc")
    store.close()
    assert not stale.exists()
    assert store.load_all() == {}


def test_parallel_run_stops_at_the_first_failed_fold(planted: Dataset,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With --jobs, a diverging fold must end the run at once, not after every other fold has trained."""
    class ThreadPool(ThreadPoolExecutor):  # the runner's control flow without spawning interpreters
        def __init__(self, max_workers: int, **_: object) -> None:
            super().__init__(max_workers=max_workers)

    started: list[str] = []

    def run_fold(method: object, dataset: Dataset, fold: Fold, seed: int) -> dict:
        started.append(fold.key)
        if fold.key == "r00_f00":
            raise TrainingError("attention network: loss became nan at epoch 3")
        time.sleep(0.2)
        return {"repeat": fold.repeat, "fold": fold.fold, "aupr": 0.5, "auc": 0.5}

    monkeypatch.setattr(runner, "ProcessPoolExecutor", ThreadPool)
    monkeypatch.setattr(runner, "run_fold", run_fold)
    with pytest.raises(TrainingError, match="epoch 3"):
        runner.cross_validate("popularity", planted, PairSplit(5, 4), jobs=2)
    assert len(started) <= 4, f"{len(started)} of 20 folds were started after the first one failed"


@pytest.mark.slow
def test_ctrl_c_anywhere_in_a_cold_train_keeps_the_previous_model(tmp_path: Path) -> None:
    """Ctrl-C at 10 points spread over a cold-cache `ammgc train` on a small own dataset (drug fingerprints
    computed from SMILES, a few epochs): exit code 130 and the previous model file byte for byte, every time;
    only a run that had written its model before the signal came replaced it, with a complete one."""
    from conftest import write_tiny_own_dataset
    from interrupt_sweep import NOT_STARTED

    data = write_tiny_own_dataset(tmp_path / "data")
    out = tmp_path / "out" / "model.ammgc"
    out.parent.mkdir()
    out.write_bytes(b"the previous model\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "args": ["train", "--data", str(data), "--out", str(out), "--epochs-gcn", "2", "--epochs-attention", "2",
                 "--no-calibrate", "-o", 'mirna_views=["expression"]', "-o", "hidden=[8,8]"],
        "out": str(out), "points": 10, "workdir": str(tmp_path)}))
    sweep = subprocess.run([sys.executable, str(Path(__file__).with_name("interrupt_sweep.py")), str(spec)],
                           capture_output=True, text=True, timeout=START_TIMEOUT_S)
    assert sweep.returncode == 0, sweep.stderr
    points = json.loads(sweep.stdout)["points"]
    interrupted = 0
    for k, point in enumerate(points, start=1):
        where = f"Ctrl-C {point['delay']:.2f} s into the run: exit code {point['code']}\n{point['log']}"
        assert not point["processes_left"], where
        assert point["files"] == ["model.ammgc"], where  # no temporary, no other output
        if point["code"] == NOT_STARTED:  # the signal came before the command began (a slow machine)
            assert point["kept"], where
            continue
        assert "Traceback" not in point["log"], where
        if point["kept"]:
            assert point["code"] == 130, where
            assert "interrupted; nothing half-written was left in place" in point["log"], where
            interrupted += 1
        else:
            assert point["finished_before_signal"] or point["mtime_ns"] <= point["sent_ns"], \
                f"the model was replaced after the Ctrl-C: {where}"
            assert point["code"] in (0, 130), where
            AMMGC.load(tmp_path / f"model{k}")
    assert interrupted >= len(points) // 4, f"only {interrupted} of {len(points)} points came before the end"
