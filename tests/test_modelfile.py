"""The model file: save -> load gives identical scores; damaged, foreign or other-version files are refused."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import fit_model, make_planted_dataset

from ammgc.errors import ModelFileError
from ammgc.models.ammgc import AMMGC
from ammgc.models.modelfile import FORMAT_VERSION, SIGNATURE, read_payload

FAST = {"epochs_gcn": 20, "epochs_attention": 20, "hidden": (16, 16)}


@pytest.fixture(scope="module")
def trained() -> AMMGC:
    return fit_model(make_planted_dataset(), FAST, seed=3, drug_features="files")


@pytest.fixture
def saved(trained: AMMGC, tmp_path: Path) -> Path:
    path = tmp_path / "model.ammgc"
    trained.save(path)
    return path


def _rewrite(path: Path, *, header: dict | None = None, payload: bytes | None = None) -> None:
    """Rewrite a model file with another header and/or payload (the checksum follows the payload)."""
    data = path.read_bytes()
    offset = len(SIGNATURE) + 8
    (length,) = struct.unpack("<Q", data[len(SIGNATURE):offset])
    old_header = json.loads(data[offset:offset + length])
    old_payload = data[offset + length:]
    payload = old_payload if payload is None else payload
    new_header = {**old_header, "payload_bytes": len(payload),
                  "payload_sha256": hashlib.sha256(payload).hexdigest(), **(header or {})}
    raw = json.dumps(new_header).encode()
    path.write_bytes(SIGNATURE + struct.pack("<Q", len(raw)) + raw + payload)


def test_save_load_gives_identical_scores_and_parameters(trained: AMMGC, saved: Path) -> None:
    loaded = AMMGC.load(saved)
    np.testing.assert_array_equal(loaded.predict_scores(), trained.predict_scores())
    np.testing.assert_array_equal(loaded.embeddings_, trained.embeddings_)
    np.testing.assert_array_equal(loaded.coefficients_, trained.coefficients_)
    np.testing.assert_array_equal(loaded.train_, trained.train_)
    assert loaded.config == trained.config and loaded.seed_ == 3
    assert loaded.modals_ == trained.modals_
    assert list(loaded.dataset_.drugs["name"]) == list(trained.dataset_.drugs["name"])
    assert list(loaded.dataset_.mirnas["name"]) == list(trained.dataset_.mirnas["name"])
    for a, b in zip(loaded.encoders_, trained.encoders_, strict=True):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
            assert np.array_equal(x.numpy(), y.numpy()), name
    # the stored scores are those the embeddings give (the file is self-consistent)
    np.testing.assert_allclose(loaded.recomputed_scores(), loaded.predict_scores(), rtol=1e-6)
    # scoring new nodes works identically before and after the round trip
    rows = {v: np.ones((2, trained.view_width(v))) for v in trained.mirna_views}
    np.testing.assert_array_equal(loaded.extended_scores({}, rows), trained.extended_scores({}, rows))


def test_file_records_provenance(saved: Path) -> None:
    metadata, tensors = read_payload(saved)
    assert metadata["seed"] == 3 and metadata["config"]["hidden"] == [16, 16]
    assert {"torch", "numpy", "rdkit", "ammgc", "python"} <= set(metadata["versions"])
    assert set(metadata["views"]) == {"fingerprint", "smiles_code", "expression", "go"}
    assert all(len(v["matrix_sha256"]) == 64 for v in metadata["views"].values())
    assert metadata["drugs"]["name"][0] == "drug0" and len(metadata["mirnas"]["name"]) == 40
    assert tensors["scores"].dtype == np.float64 and "encoder.0.layer.1.weight" in tensors


@pytest.mark.parametrize("keep", [5, len(SIGNATURE) + 4, len(SIGNATURE) + 30, -1, -5000])
def test_truncated_file_is_rejected(saved: Path, keep: int) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[:keep])
    with pytest.raises(ModelFileError, match="truncated"):
        AMMGC.load(saved)


def test_flipped_byte_fails_the_checksum(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        AMMGC.load(saved)


def test_appended_bytes_are_rejected(saved: Path) -> None:
    saved.write_bytes(saved.read_bytes() + b"\0\0")
    with pytest.raises(ModelFileError, match="unexpected bytes"):
        AMMGC.load(saved)


def test_other_format_version_is_rejected(saved: Path) -> None:
    _rewrite(saved, header={"format_version": FORMAT_VERSION + 1})
    with pytest.raises(ModelFileError, match=f"format version {FORMAT_VERSION + 1}.*reads version {FORMAT_VERSION}"):
        AMMGC.load(saved)


def test_pickle_and_foreign_files_are_not_model_files(tmp_path: Path) -> None:
    pickled = tmp_path / "evil.ammgc"
    pickled.write_bytes(pickle.dumps({"scores": np.zeros(3)}))
    with pytest.raises(ModelFileError, match="not an ammgc model file"):
        AMMGC.load(pickled)
    with pytest.raises(ModelFileError, match="no such model file"):
        AMMGC.load(tmp_path / "missing.ammgc")
    with pytest.raises(ModelFileError, match="directory"):
        AMMGC.load(tmp_path)


def test_consistent_checksum_but_bad_content_is_rejected(saved: Path) -> None:
    metadata, _ = read_payload(saved)
    meta = json.dumps(metadata).encode()
    _rewrite(saved, header={"metadata_bytes": len(meta)}, payload=meta + b"not safetensors")
    with pytest.raises(ModelFileError, match="corrupted"):
        AMMGC.load(saved)


def test_edited_metadata_with_fixed_checksum_is_checked_for_consistency(saved: Path) -> None:
    data = saved.read_bytes()
    metadata, _ = read_payload(saved)
    offset = len(SIGNATURE) + 8
    (length,) = struct.unpack("<Q", data[len(SIGNATURE):offset])
    header = json.loads(data[offset:offset + length])
    tensors = data[offset + length + header["metadata_bytes"]:]
    metadata["drugs"]["name"] = metadata["drugs"]["name"][:-1]
    metadata["drugs"] = {k: v[:-1] for k, v in metadata["drugs"].items()}
    meta = json.dumps(metadata).encode()
    _rewrite(saved, header={"metadata_bytes": len(meta)}, payload=meta + tensors)
    with pytest.raises(ModelFileError, match="inconsistent"):
        AMMGC.load(saved)


def test_write_is_atomic_and_replaces(trained: AMMGC, saved: Path) -> None:
    before = saved.read_bytes()
    trained.save(saved)
    assert AMMGC.load(saved).seed_ == 3
    assert len(saved.read_bytes()) == len(before)
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no temporary file left behind


def test_a_publication_prior_is_stored_and_used_when_scoring(tmp_path: Path) -> None:
    from conftest import with_synthetic_publications

    from ammgc.data.publications import report_counts

    dataset = with_synthetic_publications(make_planted_dataset())
    config = {**FAST, "prior_counts": "studies", "degree_prior": 3.0, "prior_in_training": 1.0}
    model = fit_model(dataset, config, seed=1, drug_features="files")
    drugs, mirnas = report_counts(dataset.publications, dataset.associations)
    np.testing.assert_array_equal(model.drug_prior_, np.log1p(drugs))
    # study counts differ from degrees here, so a scorer that fell back to degrees would be caught
    assert not np.array_equal(model.drug_prior_, np.log1p(dataset.associations.sum(axis=1)))
    assert model.prior_counts_ == "studies"
    path = tmp_path / "prior.ammgc"
    model.save(path)
    loaded = AMMGC.load(path)
    np.testing.assert_array_equal(loaded.mirna_prior_, model.mirna_prior_)
    np.testing.assert_allclose(loaded.recomputed_scores(), loaded.predict_scores(), rtol=1e-5, atol=1e-7)
