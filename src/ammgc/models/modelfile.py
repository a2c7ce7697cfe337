"""The model file: a trained AMMGC as data, never code.

Layout (all lengths little-endian)::

    b"AMMGC-MODEL\\n"            12-byte signature
    uint64                      length H of the header
    header (H bytes, JSON)      {"format_version", "payload_bytes", "metadata_bytes", "payload_sha256"}
    payload                     metadata (JSON, UTF-8) followed by the tensors (safetensors)

The payload's SHA-256 is checked before anything in it is parsed, so a truncated, corrupted or
edited file is refused with a ``ModelFileError`` that says which. Tensors are read with safetensors,
which holds raw arrays only; nothing is unpickled. The checksum detects damage, not a deliberate
forgery (whoever edits the payload can rewrite the header too): only load model files you trust
as much as their source.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ammgc.errors import ModelFileError
from ammgc.evaluation.calibration import GRID, Calibration
from ammgc.io import atomic_write_bytes
from ammgc.models.ammgc import AMMGC
from ammgc.models.layers import AttentionFusion, GCNEncoder
from ammgc.models.network import ActivityDecoder, AMMGCNet
from ammgc.models.trained import ModalRecord, TrainedModel

SIGNATURE = b"AMMGC-MODEL\n"
FORMAT_VERSION = 1
_MAX_HEADER = 1 << 20
_LIBRARIES = ("ammgc", "torch", "numpy", "scipy", "rdkit", "scikit-fingerprints", "parasail", "safetensors")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a model's numbers (features and training)."""
    import importlib.metadata

    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


#: The network's state-dict keys under the names model files have always used (so older files load).
FILE_NAMES = {"decoder.drug_prior": "prior.drug", "decoder.mirna_prior": "prior.mirna"}
_ENCODER_KEY = re.compile(r"^encoders\.(\d+)\.layers\.(\d+)\.weight$")
_FILE_ENCODER_KEY = re.compile(r"^encoder\.(\d+)\.layer\.(\d+)\.weight$")


def _layer_key(key: str) -> str:
    """``encoders.U.layers.K.weight`` (state dict) -> ``encoder.U.layer.K.weight`` (file); others unchanged."""
    m = _ENCODER_KEY.match(key)
    return f"encoder.{m.group(1)}.layer.{m.group(2)}.weight" if m else key


def _state_key(name: str) -> str:
    """The inverse of the file naming: a file tensor's key in the network's state dict."""
    m = _FILE_ENCODER_KEY.match(name)
    if m:
        return f"encoders.{m.group(1)}.layers.{m.group(2)}.weight"
    return {file: key for key, file in FILE_NAMES.items()}.get(name, name)


def save_model(path: str | os.PathLike[str], model: TrainedModel) -> int:
    """Write ``model`` to ``path`` atomically; returns the file size in bytes."""
    tensors: dict[str, np.ndarray] = {
        "associations": np.ascontiguousarray(model.associations, dtype=np.uint8),
        "scores": np.ascontiguousarray(model.scores, dtype=np.float64),
        **{FILE_NAMES.get(_layer_key(k), _layer_key(k)): v.detach().cpu().numpy()
           for k, v in model.network.state_dict().items()},
    }
    for view, row in model.mirna_means.items():
        tensors[f"mirna_mean.{view}"] = np.ascontiguousarray(row, dtype=np.float64)
    if model.calibration is not None:
        for name in ("probability_knots", "precision_knots", "reliability", "low_knots", "high_knots"):
            if getattr(model.calibration, name) is not None:
                tensors[f"calibration.{name}"] = np.ascontiguousarray(getattr(model.calibration, name),
                                                                      dtype=np.float64)
    metadata = {
        "kind": "ammgc",
        "config": dataclasses.asdict(model.config),
        "seed": model.seed,
        "modals": [dataclasses.asdict(m) for m in model.modals],
        "views": model.views,
        "drugs": {c: [str(x) for x in model.drugs[c]] for c in model.drugs.columns},
        "mirnas": {c: [str(x) for x in model.mirnas[c]] for c in model.mirnas.columns},
        "info": model.info,
        "calibration": model.calibration.describe() if model.calibration is not None else None,
        "versions": library_versions(),
    }
    return write_payload(path, metadata, tensors)


def write_payload(path: str | os.PathLike[str], metadata: dict[str, Any], tensors: dict[str, np.ndarray], *,
                  format_version: object = FORMAT_VERSION) -> int:
    """Write metadata and tensors as a model file (the inverse of ``read_payload``); returns its size."""
    from safetensors.numpy import save

    meta_bytes = json.dumps(metadata, sort_keys=True, default=_json_default).encode("utf-8")
    payload = meta_bytes + save(tensors)
    header = json.dumps({"format_version": format_version, "payload_bytes": len(payload),
                         "metadata_bytes": len(meta_bytes),
                         "payload_sha256": hashlib.sha256(payload).hexdigest()}).encode("utf-8")
    data = SIGNATURE + struct.pack("<Q", len(header)) + header + payload
    atomic_write_bytes(path, data)
    return len(data)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


#: Larger than any model of a dataset that fits in memory; a bigger "model" is some other file.
MAX_MODEL_BYTES = 8 * 2**30


def read_payload(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Check the file's signature, format version, length and checksum; return (metadata, tensors)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    if path.exists() and not path.is_dir() and not path.is_file():
        raise ModelFileError(f"{path}: not a regular file (a device or a pipe), not a model file")
    if path.is_file() and path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{path}: {path.stat().st_size / 1e9:.1f} GB is far larger than any model file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file (create one with `ammgc train`)") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror or exc})") from None
    if not data.startswith(SIGNATURE):
        if SIGNATURE.startswith(data):
            raise ModelFileError(f"{path}: truncated model file ({len(data)} bytes)")
        raise ModelFileError(f"{path}: not an ammgc model file (it does not start with the model signature)")
    offset = len(SIGNATURE) + 8
    if len(data) < offset:
        raise ModelFileError(f"{path}: truncated model file ({len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[len(SIGNATURE):offset])
    if header_len > _MAX_HEADER:
        raise ModelFileError(f"{path}: corrupted model file (header length {header_len} is implausible)")
    if len(data) < offset + header_len:
        raise ModelFileError(f"{path}: truncated model file (the header is cut off)")
    try:
        header = json.loads(data[offset:offset + header_len].decode("utf-8"))
        version = header["format_version"]
        payload_bytes, meta_bytes = int(header["payload_bytes"]), int(header["metadata_bytes"])
        digest = str(header["payload_sha256"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ModelFileError(f"{path}: corrupted model file (unreadable header)") from None
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model file format version {version!r}; this ammgc reads version "
                             f"{FORMAT_VERSION}. Retrain with `ammgc train`, or use the ammgc version "
                             f"that wrote it")
    payload = data[offset + header_len:]
    if len(payload) < payload_bytes:
        raise ModelFileError(f"{path}: truncated model file ({len(payload)} of {payload_bytes} payload bytes)")
    if len(payload) > payload_bytes:
        raise ModelFileError(f"{path}: corrupted model file ({len(payload) - payload_bytes} unexpected "
                             f"bytes after the payload)")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise ModelFileError(f"{path}: corrupted or modified model file (SHA-256 checksum mismatch)")
    try:
        metadata = json.loads(payload[:meta_bytes].decode("utf-8"))
        tensors = load(payload[meta_bytes:])
    except (UnicodeDecodeError, json.JSONDecodeError, SafetensorError) as exc:
        raise ModelFileError(f"{path}: corrupted model file ({exc})") from None
    return metadata, tensors


def load_model(path: str | os.PathLike[str]) -> TrainedModel:
    """Read a model file written by ``save_model``; any defect is a ``ModelFileError``."""
    import torch

    metadata, tensors = read_payload(path)
    try:
        if metadata.get("kind") != "ammgc":
            raise ModelFileError(f"{path}: holds a {metadata.get('kind')!r} model, not an AMMGC model")
        config = _config(metadata["config"])
        modals = [ModalRecord(m["name"], tuple(m["drug_views"]), tuple(m["mirna_views"]), int(m["width"]))
                  for m in metadata["modals"]]
        embeddings = tensors["embeddings"]
        associations = tensors["associations"]
        encoders = [GCNEncoder(modal.width, tuple(config.hidden), dropout=config.dropout,
                               input_dropout=config.input_dropout, last_activation=config.last_activation)
                    for modal in modals]
        fusion = AttentionFusion(len(modals), embeddings.shape[1], embeddings.shape[2], mode=config.fusion)
        # files written before the prior was stored always used training degrees
        drug_prior = tensors.get("prior.drug", np.log1p(associations.sum(axis=1).astype(np.float64)))
        mirna_prior = tensors.get("prior.mirna", np.log1p(associations.sum(axis=0).astype(np.float64)))
        network = AMMGCNet(encoders, fusion, ActivityDecoder(drug_prior, mirna_prior, config.degree_prior),
                           torch.from_numpy(embeddings), torch.from_numpy(tensors["coefficients"]),
                           int(associations.shape[0]))
        state = {_state_key(k): torch.from_numpy(v) for k, v in tensors.items()
                 if k in ("embeddings", "coefficients", "prior.drug", "prior.mirna")
                 or k.startswith(("encoder.", "fusion."))}
        state.setdefault("decoder.drug_prior", torch.from_numpy(drug_prior))
        state.setdefault("decoder.mirna_prior", torch.from_numpy(mirna_prior))
        network.load_state_dict(state, strict=True)
        network.eval()
        model = TrainedModel(
            config=config, seed=int(metadata["seed"]), modals=modals, network=network, scores=tensors["scores"],
            associations=associations, drugs=pd.DataFrame(metadata["drugs"]),
            mirnas=pd.DataFrame(metadata["mirnas"]), views=metadata["views"],
            mirna_means={k[len("mirna_mean."):]: v for k, v in tensors.items() if k.startswith("mirna_mean.")},
            info={**metadata["info"], "versions": metadata["versions"]},
            calibration=_calibration(metadata.get("calibration"), tensors))
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ModelFileError(f"{path}: inconsistent model file ({type(exc).__name__}: {exc})") from None
    # a valid checksum only proves the file is as written: what was written must still be numbers
    for name, tensor in tensors.items():
        if np.issubdtype(tensor.dtype, np.floating) and not np.isfinite(tensor).all():
            raise ModelFileError(f"{path}: inconsistent model file (tensor {name!r} holds NaN or infinite values)")
    _check_shapes(model, path)
    return model


def _config(stored: dict[str, Any]) -> AMMGC.Config:
    fields = {f.name: f for f in dataclasses.fields(AMMGC.Config)}
    unknown = sorted(set(stored) - set(fields))
    if unknown:
        raise ModelFileError(f"the model's configuration has options this ammgc does not know: {unknown}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}
    return AMMGC.Config(**values)


def _calibration(record: dict[str, Any] | None, tensors: dict[str, np.ndarray]) -> Calibration | None:
    """The stored calibration (files written without one, or before it existed, have none; files written
    before the probability had an interval have no ``low_knots`` / ``high_knots`` nor counts)."""
    if record is None:
        return None
    calibration = Calibration(
        method=str(record["method"]), protocol=str(record["protocol"]), folds=int(record["folds"]),
        probability_knots=tensors["calibration.probability_knots"],
        precision_knots=tensors["calibration.precision_knots"], prevalence=float(record["prevalence"]),
        reliability=tensors["calibration.reliability"],
        measured={k: {m: float(v) for m, v in d.items()} for k, d in record["measured"].items()},
        low_knots=tensors.get("calibration.low_knots"), high_knots=tensors.get("calibration.high_knots"),
        positives=int(record.get("positives", 0)), candidates=int(record.get("candidates", 0)))
    if (calibration.low_knots is None) != (calibration.high_knots is None):
        raise ValueError("calibration interval needs both its low and its high knots")
    knots = [k for k in (calibration.probability_knots, calibration.precision_knots, calibration.low_knots,
                         calibration.high_knots) if k is not None]
    if any(k.shape != GRID.shape or not np.isfinite(k).all() or (k < 0).any() or (k > 1).any() for k in knots):
        raise ValueError("calibration maps must be finite probabilities on the stored grid")
    return calibration


def _check_shapes(model: TrainedModel, path: str | os.PathLike[str]) -> None:
    p, q = model.associations.shape
    u, n, d = model.embeddings.shape
    problems = []
    if model.scores.shape != (p, q):
        problems.append(f"scores {model.scores.shape} vs associations {(p, q)}")
    if n != p + q or u != len(model.modals):
        problems.append(f"embeddings {model.embeddings.shape} vs {len(model.modals)} modals of {p + q} nodes")
    if model.coefficients.shape != (u, d):
        problems.append(f"coefficients {model.coefficients.shape} vs {(u, d)}")
    if len(model.drugs) != p or len(model.mirnas) != q:
        problems.append(f"{len(model.drugs)} drug / {len(model.mirnas)} miRNA names for a {p} x {q} matrix")
    if model.drug_prior.shape != (p,) or model.mirna_prior.shape != (q,):
        problems.append(f"prior terms {model.drug_prior.shape} / {model.mirna_prior.shape} for a {p} x {q} matrix")
    elif not (np.isfinite(model.drug_prior).all() and np.isfinite(model.mirna_prior).all()):
        problems.append("prior terms are not finite")
    if problems:
        raise ModelFileError(f"{path}: inconsistent model file: {'; '.join(problems)}")


def describe(model: TrainedModel) -> dict[str, Any]:
    """A short summary of a model for printing."""
    return {"dataset": model.info.get("dataset"), "source": model.info.get("source"), "seed": model.seed,
            "drugs": model.n_drugs, "mirnas": model.n_mirnas, "associations": int(model.associations.sum()),
            "modals": [f"{m.name}: {'+'.join(m.drug_views)} x {'+'.join(m.mirna_views)}" for m in model.modals],
            "ammgc": model.info.get("versions", {}).get("ammgc", model.info.get("ammgc"))}


def version_differences(model: TrainedModel) -> list[str]:
    """Libraries whose version differs from the one that trained the model (worth a warning)."""
    stored = model.info.get("versions", {})
    here = library_versions()
    return [f"{k} {stored[k]} (now {here[k]})" for k in sorted(stored) if k in here and stored[k] != here[k]]
