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
    return fit_model(make_planted_dataset(), FAST, seed=3, drug_features="files", calibrate=True)


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


# --- forged files: a valid checksum over contents that are not what `ammgc train` writes ----------------------
# Generated from the declared schema (modelfile.METADATA, TENSORS, MIRNA_VIEW_TENSORS) and the file's own tensors:
# every field dropped, of another JSON type and failing its check; every tensor dropped, of another dtype, of a
# broken shape and holding a NaN. Each must be one ModelFileError naming the file and the field or tensor.

#: For every declared field with a check: a value of the right JSON type that fails it.
BROKEN = {"kind": "sklearn", "seed": 2**32, "modals": [], "modals.drug_views": [1], "modals.mirna_views": [None],
          "modals.width": 0, "views.width": -1, "drugs": {"name": ["a"], "smiles": []}, "drugs.name": [3],
          "mirnas": {"name": ["a"], "sequence": [7]}, "mirnas.name": [[]], "info.prior_counts": "auto",
          "info.notes": [{}], "calibration.folds": -5, "calibration.prevalence": 1.5}


def _schema_fields(schema: dict, value: dict, path: tuple, where: str, key: str):
    """(schema key like ``modals.width``, the name the error gives, path to the value, field spec) of every
    declared field, records through their first item."""
    for name, spec in schema.items():
        field = f"{where}.{name}" if where else name
        yield f"{key}.{name}" if key else name, field, (*path, name), spec
        inner = value.get(name) if isinstance(value, dict) else None
        if spec.fields:
            yield from _schema_fields(spec.fields, inner or {}, (*path, name), field, f"{key}.{name}" if key else name)
        if spec.each and inner:
            first = 0 if isinstance(inner, list) else next(iter(inner))
            yield from _schema_fields(spec.each, inner[first], (*path, name, first), f"{field}[{first!r}]",
                                      f"{key}.{name}" if key else name)


def _set(metadata: dict, path: tuple, value: object) -> None:
    parent = metadata
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value


def _drop(metadata: dict, path: tuple) -> None:
    parent = metadata
    for step in path[:-1]:
        parent = parent[step]
    parent.pop(path[-1], None)


def _get(metadata: dict, path: tuple) -> object:
    for step in path:
        metadata = metadata[step] if isinstance(metadata, dict | list) and (
            isinstance(metadata, list) or step in metadata) else None
    return metadata


def metadata_forgeries(metadata: dict) -> list[tuple[str, str | None, object]]:
    """(case, the field the error must name or None where the file must load, change of the metadata)."""
    from ammgc.models.modelfile import METADATA

    cases: list[tuple[str, str | None, object]] = []
    seen_checks = set()
    for key, field, path, spec in _schema_fields(METADATA, metadata, (), "", ""):
        present = _get(metadata, path) is not None
        if present:
            cases.append((f"drop {field}", field if spec.required else None, lambda m, p=path: _drop(m, p)))
        other = 7 if spec.kind is str else "text"
        parent_present = len(path) == 1 or _get(metadata, path[:-1]) is not None
        if parent_present:
            cases.append((f"{field} as {type(other).__name__}", field, lambda m, p=path, o=other: _set(m, p, o)))
        if spec.check is not None and parent_present:
            seen_checks.add(key)
            cases.append((f"{field} = {BROKEN[key]!r}", field, lambda m, p=path, v=BROKEN[key]: _set(m, p, v)))
    assert seen_checks == set(BROKEN), "every declared check has a broken value here, and only those"
    # every option's value is checked; one a loaded model does not read may be absent (files of older versions)
    for option in metadata["config"]:
        if option not in METADATA["config"].fields:
            cases.append((f"drop config.{option}", None, lambda m, o=option: m["config"].pop(o)))
        cases.append((f"config.{option} as object", option, lambda m, o=option: m["config"].update({o: {"x": 1}})))
    # relations between fields
    cases += [
        ("a view narrower than its modal", "modals[1].width", lambda m: m["views"]["go"].update(width=14)),
        ("a modal reads a view without record", "views", lambda m: m["views"].pop("go")),
        ("a drug table without one row", "tensor 'associations'",
         lambda m: m.update(drugs={k: v[:-1] for k, v in m["drugs"].items()})),
        ("a record that is not an object", "views['go']", lambda m: m["views"].update(go=[15])),
        ("a calibration that did not measure its method", "calibration.measured",
         lambda m: m["calibration"].update(method="platt")),
    ]
    return cases


def tensor_forgeries(tensors: dict) -> list[tuple[str, str, object]]:
    """(case, the tensor the error must name, change of the tensors) for every tensor of the file."""
    cases: list[tuple[str, str, object]] = []
    for name, t in tensors.items():
        other = np.float32 if t.dtype.kind == "u" else np.int32
        grown = np.concatenate([t, t[:1]]) if t.ndim else np.stack([t, t])
        cases += [(f"drop {name}", name, lambda x, n=name: x.pop(n)),
                  (f"{name} as {np.dtype(other)}", name, lambda x, n=name, o=other: x.update({n: x[n].astype(o)})),
                  (f"{name} one row more", name, lambda x, n=name, g=grown: x.update({n: g}))]
        if t.dtype.kind == "f":
            nan = t.copy()
            nan.flat[t.size // 2] = np.nan
            cases.append((f"NaN in {name}", name, lambda x, n=name, v=nan: x.update({n: v})))
    cases += [("an association matrix holding a 2", "associations",
               lambda x: x["associations"].__setitem__((0, 0), 2)),
              ("a negative activity prior", "prior.mirna", lambda x: x["prior.mirna"].__setitem__(0, -1.0)),
              ("a tensor of no part of the model", "stray", lambda x: x.update(stray=np.zeros(3))),
              ("a probability above 1", "calibration.probability_knots",
               lambda x: x["calibration.probability_knots"].__setitem__(0, 1.5))]
    return cases


def _forge(saved: Path, forged: Path, change_metadata: object = None, change_tensors: object = None) -> Path:
    import copy

    from ammgc.models.modelfile import write_payload

    metadata, tensors = read_payload(saved)
    metadata, tensors = copy.deepcopy(metadata), {k: v.copy() for k, v in tensors.items()}
    if change_metadata:
        change_metadata(metadata)  # type: ignore[operator]
    if change_tensors:
        change_tensors(tensors)  # type: ignore[operator]
    write_payload(forged, metadata, tensors)
    return forged


def _use(model: AMMGC) -> None:
    """What predict does with a model: known pairs' scores, a new drug and a new miRNA."""
    from ammgc.prediction.new_entities import NewMirna, new_mirna_rows

    model.predict_scores()
    mirna_rows, _ = new_mirna_rows(model, [NewMirna("hsa-mir-new", "UGAGGUAGUAGGUUGUAUAGUU")])
    drug_rows = {v: np.ones((1, model.view_width(v))) for v in model.drug_views}
    model.extended_scores(drug_rows, mirna_rows)


def _refusals(saved: Path, tmp_path: Path, cases: list, *, of: str) -> list[str]:
    """Each case forged and loaded: the problems found (an error of another type, a message that does not name
    the file and the field, a forged file that loads)."""
    problems = []
    for k, (case, field, change) in enumerate(cases):
        forged = tmp_path / f"forged{k}.ammgc"
        _forge(saved, forged, **{of: change})
        try:
            model = AMMGC.load(forged)
            _use(model)
        except ModelFileError as exc:
            message = str(exc)
            if field is None:
                problems.append(f"{case}: refused ({message}) but the field is optional")
            elif str(forged) not in message or field not in message or "\n" in message:
                problems.append(f"{case}: the message does not name {field!r} and the file: {message}")
            continue
        except Exception as exc:  # noqa: BLE001 - what slips through is the finding
            problems.append(f"{case}: {type(exc).__name__}: {exc}")
            continue
        if field is not None:
            problems.append(f"{case}: loaded")
    return problems


def test_every_declared_field_forged_is_one_error_naming_it(saved: Path, tmp_path: Path) -> None:
    metadata, _ = read_payload(saved)
    cases = metadata_forgeries(metadata)
    assert len(cases) > 60
    problems = _refusals(saved, tmp_path, cases, of="change_metadata")
    assert not problems, "\n".join(problems)


def test_every_tensor_forged_is_one_error_naming_it(trained: AMMGC, saved: Path, tmp_path: Path) -> None:
    from ammgc.models.modelfile import TENSORS, network_tensors

    _, tensors = read_payload(saved)
    # the loop covers every declared tensor, every network weight and the miRNA views' mean rows
    assert set(TENSORS) | set(network_tensors(trained.network_)) <= set(tensors)
    assert {f"mirna_mean.{v}" for v in trained.mirna_views} <= set(tensors)
    cases = tensor_forgeries(tensors)
    assert len(cases) > 60
    problems = _refusals(saved, tmp_path, cases, of="change_tensors")
    assert not problems, "\n".join(problems)


def test_stored_scores_must_be_those_of_the_stored_network(saved: Path, tmp_path: Path) -> None:
    forged = _forge(saved, tmp_path / "fives.ammgc", change_tensors=lambda t: t["scores"].fill(5.0))
    with pytest.raises(ModelFileError, match=r"fives.ammgc: inconsistent model file: tensor 'scores' is not what the "
                                             r"stored network gives: 960 score\(s\) differ beyond float rounding, "
                                             r"the first of drug 'drug0' x miRNA 'hsa-mir-0' \(stored 5, network"):
        AMMGC.load(forged)
    # one score off by a hundredth is a difference; float32 rounding of the products (what another machine or
    # order of summation gives, ~1e-7 of the scores) is not
    _forge(saved, forged, change_tensors=lambda t: t["scores"].__setitem__((3, 4), t["scores"][3, 4] + 0.01))
    with pytest.raises(ModelFileError, match=r"1 score\(s\) differ beyond float rounding, the first of drug 'drug3' "
                                             r"x miRNA 'hsa-mir-4'"):
        AMMGC.load(forged)
    _forge(saved, forged, change_tensors=lambda t: t.update(scores=t["scores"] * (1 + 1e-6)))
    AMMGC.load(forged)
