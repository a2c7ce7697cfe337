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

import hashlib
import json
import os
import platform
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ammgc.errors import ModelFileError
from ammgc.evaluation.calibration import GRID
from ammgc.io import atomic_write_bytes
from ammgc.models.layers import AttentionFusion, GCNEncoder
from ammgc.models.network import ActivityDecoder, AMMGCNet

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


#: The network's state-dict keys under the names model files use.
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


def network_tensors(network: Any) -> dict[str, np.ndarray]:
    """The network's state dict under the model file's tensor names."""
    return {FILE_NAMES.get(_layer_key(k), _layer_key(k)): v.detach().cpu().numpy()
            for k, v in network.state_dict().items()}


def write_model(path: str | os.PathLike[str], state: ModelState) -> int:
    """Write a model's state (``AMMGC.state()``) with the library versions; returns the file's size."""
    return write_payload(path, {**state.metadata, "versions": library_versions()}, state.tensors)


def read_model(path: str | os.PathLike[str]) -> ModelState:
    """The checked state of a model file: checksum (``read_payload``), then every field and tensor the reader
    uses against the declared schema (``METADATA``, ``TENSORS``); the first problem is one ``ModelFileError``
    naming the file and the field."""
    metadata, tensors = read_payload(path)
    check_schema(metadata, tensors, path)
    return ModelState(metadata, tensors)


@dataclass(frozen=True)
class ModelState:
    """A fitted model as a model file holds it: JSON metadata and named arrays (``AMMGC.state()``)."""

    metadata: dict[str, Any]
    tensors: dict[str, np.ndarray]


# --- the schema: what a model file must hold for the reader to trust it ---------------------------------------


@dataclass(frozen=True)
class Field:
    """One metadata field: its JSON type, whether it may be absent (or null), the fields of the object it holds
    (``fields``) or of each of its records (``each``: every item of an array, every value of an object keyed by
    name), and a check of the whole value (None: fine; else the problem)."""

    kind: type
    required: bool = True
    check: Callable[[Any], str | None] | None = None
    fields: dict[str, Field] | None = None
    each: dict[str, Field] | None = None


_JSON_NAMES = {dict: "object", list: "array", str: "string", int: "whole number", float: "number",
               bool: "true/false", type(None): "null"}


def _json_name(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _names(value: list[Any]) -> str | None:
    return None if all(isinstance(v, str) for v in value) else "must be an array of strings"


def _positive(value: int) -> str | None:
    return None if value >= 1 else f"is {value}, not a positive whole number"


def _nonempty(value: list[Any]) -> str | None:
    return None if value else "lists no modal"


def _seed(value: int) -> str | None:
    return None if 0 <= value < 2**32 else f"is {value}, not a whole number in [0, 2^32)"


def _probability(value: float) -> str | None:
    return None if 0 <= value <= 1 else f"is {value}, not a probability"


def _one_of(*allowed: str) -> Callable[[str], str | None]:
    return lambda value: None if value in allowed else f"is {value!r}, not one of {', '.join(allowed)}"


def _table(value: dict[str, Any]) -> str | None:
    """A table as the file stores it: columns of strings, of equal length (names may repeat: the benchmark lists
    Rituximab twice)."""
    lengths = {k: len(v) if isinstance(v, list) else -1 for k, v in value.items()}
    if any(n < 0 for n in lengths.values()) or len(set(lengths.values())) != 1:
        return f"columns must be arrays of equal length ({lengths})"
    return "cells must be strings" if any(_names(v) for v in value.values()) else None


#: What each modal records: its views and the width of its stacked node features.
MODAL: dict[str, Field] = {
    "name": Field(str), "drug_views": Field(list, check=_names), "mirna_views": Field(list, check=_names),
    "width": Field(int, check=_positive),
}

#: What the reader uses of each view's record: the columns it has, and for the miRBase ``sequence`` view the
#: stem-loops those columns are (a new miRNA's row is aligned to the same ones).
VIEW: dict[str, Field] = {
    "width": Field(int, check=_positive),
    "mirbase": Field(dict, required=False, fields={"columns_sha256": Field(str)}),
}

#: A drug or miRNA table: a ``name`` column and any others, each an array of strings.
TABLE: dict[str, Field] = {"name": Field(list, check=_names)}

#: What the reader uses of the training record: where the data came from, how activity was counted, notes.
INFO: dict[str, Field] = {
    "dataset": Field(str), "source": Field(str), "prior_counts": Field(str, check=_one_of("pairs", "studies", "mixed")),
    "notes": Field(list, required=False, check=_names),
}

#: A calibration's record (its maps are the tensors ``CALIBRATION_TENSORS``): how it was made, and what it measured
#: held out (``measured[method]``).
CALIBRATION: dict[str, Field] = {
    "method": Field(str), "protocol": Field(str), "folds": Field(int, check=_positive),
    "prevalence": Field(float, check=_probability),
    "measured": Field(dict, each={"brier": Field(float), "ece": Field(float)}),
    "positives": Field(int, required=False), "candidates": Field(int, required=False),
}

#: The options of ``AMMGC.Config`` a loaded model reads: the network's layers, its decoder's prior, whether new
#: entities have features. The others only shaped training; a file of a version before one of them was added takes
#: its default. Every option's value is checked as ``fit`` checks it.
CONFIG: dict[str, Field] = {
    "hidden": Field(list), "last_activation": Field(str), "fusion": Field(str), "degree_prior": Field(float),
    "node_features": Field(str),
}

#: Every metadata field the reader uses.
METADATA: dict[str, Field] = {
    "kind": Field(str, check=lambda v: None if v == "ammgc" else f"is {v!r}, not an AMMGC model"),
    "config": Field(dict, fields=CONFIG),
    "seed": Field(int, check=_seed),
    "modals": Field(list, each=MODAL, check=_nonempty),
    "views": Field(dict, each=VIEW),
    "drugs": Field(dict, fields=TABLE, check=_table),
    "mirnas": Field(dict, fields=TABLE, check=_table),
    "info": Field(dict, fields=INFO),
    "calibration": Field(dict, required=False, fields=CALIBRATION),
    "versions": Field(dict, required=False),
}


@dataclass(frozen=True)
class Tensor:
    """One stored array: its dtype kind (``f`` float, ``u`` unsigned), shape in named sizes (``SIZES``, or a number),
    its values' range (``finite``, ``non-negative``, ``probability``, ``0/1``), and whether it may be absent."""

    kind: str
    shape: tuple[str | int, ...]
    values: str = "finite"
    required: bool = True


#: The named sizes of tensor shapes: the tables give p and q, the modals U, the first tensor that has d gives it,
#: and a view's record its width.
SIZES = {"p": "drugs", "q": "miRNAs", "n": "drugs + miRNAs", "U": "modals", "d": "embedding width",
         "width": "the view's width", "grid": "the calibration grid's top fractions", "bins": "reliability bins"}

#: Every tensor the reader uses besides the network's weights, which must fit the network the configuration
#: and modals describe (checked by loading them into it) and be finite.
TENSORS: dict[str, Tensor] = {
    "associations": Tensor("u", ("p", "q"), "0/1"),
    "scores": Tensor("f", ("p", "q")),
    "embeddings": Tensor("f", ("U", "n", "d")),
    "coefficients": Tensor("f", ("U", "d")),
    "prior.drug": Tensor("f", ("p",), "non-negative"),
    "prior.mirna": Tensor("f", ("q",), "non-negative"),
}

#: Tensors of each miRNA view the modals read, except ``sequence`` (computed from a new miRNA's sequence): the
#: mean training row, which a new miRNA gets.
MIRNA_VIEW_TENSORS: dict[str, Tensor] = {"mirna_mean.{view}": Tensor("f", ("width",))}

#: The maps of a calibrated model (``calibration`` in the metadata): probability and expected precision at each
#: top fraction of the grid, the probability's interval (optional: a calibration may have none), and the reliability
#: diagram's rows (mean probability, observed share, pairs) by bin.
CALIBRATION_TENSORS: dict[str, Tensor] = {
    "calibration.probability_knots": Tensor("f", ("grid",), "probability"),
    "calibration.precision_knots": Tensor("f", ("grid",), "probability"),
    "calibration.low_knots": Tensor("f", ("grid",), "probability", required=False),
    "calibration.high_knots": Tensor("f", ("grid",), "probability", required=False),
    "calibration.reliability": Tensor("f", (3, "bins")),
}


def check_schema(metadata: dict[str, Any], tensors: dict[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """``metadata`` and ``tensors`` against ``METADATA``, ``TENSORS``, ``MIRNA_VIEW_TENSORS`` and
    ``CALIBRATION_TENSORS``, and the relations between them (the network's weights: ``build_network``); the first
    problem is one ``ModelFileError`` naming the file and the field or tensor."""

    def fail(field: str, problem: str) -> ModelFileError:
        return ModelFileError(f"{path}: inconsistent model file: {field} {problem}")

    if not isinstance(metadata, dict):
        raise fail("metadata", "is not a JSON object")
    _check_fields(metadata, METADATA, "", fail)
    modals, views = metadata["modals"], metadata["views"]
    used = [v for m in modals for v in (*m["drug_views"], *m["mirna_views"])]
    unrecorded = sorted(set(used) - set(views))
    if unrecorded:
        raise fail("views", f"has no record of view(s) {unrecorded} that the modals read")
    p, q = len(metadata["drugs"]["name"]), len(metadata["mirnas"]["name"])
    for k, m in enumerate(modals):
        blocks = [sum(views[v]["width"] for v in m[side]) for side in ("drug_views", "mirna_views")]
        # the narrower block is padded to the wider one (stack_modal); a modal without views is one-hot
        width = max(blocks) if m["drug_views"] or m["mirna_views"] else p + q
        if m["width"] != width:
            raise fail(f"modals[{k}].width", f"is {m['width']}, but its views give {width} columns")
    sizes = {"p": p, "q": q, "n": p + q, "U": len(modals)}
    for name, spec in TENSORS.items():
        _check_tensor(name, spec, tensors.get(name), sizes, fail)
    for view in dict.fromkeys(v for m in modals for v in m["mirna_views"] if v != "sequence"):
        for pattern, spec in MIRNA_VIEW_TENSORS.items():
            name = pattern.format(view=view)
            _check_tensor(name, spec, tensors.get(name), {**sizes, "width": views[view]["width"]}, fail)
    calibration = metadata.get("calibration")
    if calibration is not None:
        if calibration["method"] not in calibration["measured"]:
            raise fail("calibration.measured", f"has no record of its method {calibration['method']!r}")
        for name, spec in CALIBRATION_TENSORS.items():
            _check_tensor(name, spec, tensors.get(name), {**sizes, "grid": len(GRID)}, fail)
        ends = ["calibration.low_knots", "calibration.high_knots"]
        if sum(end in tensors for end in ends) == 1:
            missing = next(e for e in ends if e not in tensors)
            raise fail(f"tensor {missing!r}", "is missing (an interval has both ends)")
    for name, tensor in tensors.items():
        if tensor.dtype.kind == "f" and not np.isfinite(tensor).all():
            raise fail(f"tensor {name!r}", "holds NaN or infinite values")


def _check_fields(value: dict[str, Any], schema: dict[str, Field], where: str,
                  fail: Callable[[str, str], ModelFileError]) -> None:
    for name, spec in schema.items():
        field = f"{where}.{name}" if where else name
        if value.get(name) is None:
            if spec.required:
                raise fail(field, "is missing")
            continue
        _check_value(value[name], spec, field, fail)


def _check_value(value: Any, spec: Field, field: str, fail: Callable[[str, str], ModelFileError]) -> None:
    kind_ok = isinstance(value, spec.kind) and not isinstance(value, bool)
    if spec.kind is float:
        kind_ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not kind_ok:
        raise fail(field, f"must be a JSON {_JSON_NAMES[spec.kind]}, not {_json_name(value)}")
    if spec.fields:
        _check_fields(value, spec.fields, field, fail)
    if spec.each:
        records = enumerate(value) if isinstance(value, list) else value.items()
        for key, record in records:
            where = f"{field}[{key!r}]"
            if not isinstance(record, dict):
                raise fail(where, f"must be a JSON object, not {_json_name(record)}")
            _check_fields(record, spec.each, where, fail)
    problem = spec.check(value) if spec.check else None
    if problem:
        raise fail(field, problem)


def _check_tensor(name: str, spec: Tensor, tensor: np.ndarray | None, sizes: dict[str, int],
                  fail: Callable[[str, str], ModelFileError]) -> None:
    what = f"tensor {name!r}"
    if tensor is None:
        if not spec.required:
            return
        raise fail(what, "is missing")
    if tensor.dtype.kind != spec.kind:
        raise fail(what, f"has dtype {tensor.dtype}, expected {'a float' if spec.kind == 'f' else 'an unsigned'} type")
    if tensor.ndim == len(spec.shape):  # a size first met here (d) is this tensor's
        for size, got in zip(spec.shape, tensor.shape, strict=True):
            if isinstance(size, str):
                sizes.setdefault(size, got)
    expected = tuple(sizes.get(s, -1) if isinstance(s, str) else s for s in spec.shape)
    if tensor.shape != expected:
        named = " x ".join(SIZES.get(s, s) if isinstance(s, str) else str(s) for s in spec.shape)
        raise fail(what, f"has shape {tensor.shape}, expected {expected} ({named})")
    if spec.values == "0/1" and not np.isin(tensor, (0, 1)).all():
        raise fail(what, "must hold only 0 and 1")
    if spec.values != "0/1" and not np.isfinite(tensor).all():
        raise fail(what, "holds NaN or infinite values")
    if spec.values == "non-negative" and (tensor < 0).any():
        raise fail(what, "holds negative values")
    if spec.values == "probability" and ((tensor < 0) | (tensor > 1)).any():
        raise fail(what, "holds values outside [0, 1]")


#: How far a stored score may lie from the one the stored network gives, as a fraction of |Z_i| |Z_j| (the
#: fused embeddings' norms) plus as much absolutely. The scores are float32 products Z_i . Z_j (and a float64
#: prior), whose rounding in any order of summation is at most about d * 2^-24 * |Z_i| |Z_j|: 6.1e-5 of it for
#: the default d = 4 modals x 256. Real files lie far inside (docs/reliability.md); TF32 products (10-bit
#: mantissas, which ammgc never turns on) would not.
SCORE_TOLERANCE = 1e-4


def scores_beyond_tolerance(stored: np.ndarray, recomputed: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Where stored scores differ from recomputed ones by more than ``SCORE_TOLERANCE * (bound + 1)``, ``bound``
    being |Z_i| |Z_j| of each pair."""
    return ~(np.abs(stored - recomputed) <= SCORE_TOLERANCE * (bound + 1.0))


def stored_config(stored: dict[str, Any], fields: list[str], path: str | os.PathLike[str]) -> dict[str, Any]:
    """The stored configuration as keyword arguments, refusing options this version does not know (an option the
    file lacks takes its default: ``CONFIG`` declares those a loaded model reads, which it must have)."""
    unknown = sorted(set(stored) - set(fields))
    if unknown:
        raise ModelFileError(f"{path}: the model's configuration has options this ammgc does not know: {unknown}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}


def build_network(config: Any, modals: list[Any], tensors: dict[str, np.ndarray], path: str | os.PathLike[str]
                  ) -> Any:
    """The stored network: modules built from the configuration and modals, weights loaded strictly (a missing,
    extra or misshapen weight names the tensor)."""
    import torch

    embeddings = tensors["embeddings"]
    try:
        encoders = [GCNEncoder(modal.width, tuple(config.hidden), dropout=config.dropout,
                               input_dropout=config.input_dropout, last_activation=config.last_activation)
                    for modal in modals]
        fusion = AttentionFusion(len(modals), embeddings.shape[1], embeddings.shape[2], mode=config.fusion)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: inconsistent model file: config does not describe a network ({exc})") from None
    drug_prior, mirna_prior = tensors["prior.drug"], tensors["prior.mirna"]
    network = AMMGCNet(encoders, fusion, ActivityDecoder(drug_prior, mirna_prior, config.degree_prior),
                       torch.from_numpy(embeddings), torch.from_numpy(tensors["coefficients"]),
                       int(tensors["associations"].shape[0]))
    weights = network.state_dict()
    expected = {FILE_NAMES.get(_layer_key(k), _layer_key(k)): tuple(v.shape) for k, v in weights.items()}
    for name, shape in expected.items():
        if name not in tensors:
            raise ModelFileError(f"{path}: inconsistent model file: tensor {name!r} is missing")
        if tuple(tensors[name].shape) != shape:
            raise ModelFileError(f"{path}: inconsistent model file: tensor {name!r} has shape "
                                 f"{tuple(tensors[name].shape)}, the network needs {shape}")
        if tensors[name].dtype.kind != "f":
            raise ModelFileError(f"{path}: inconsistent model file: tensor {name!r} has dtype {tensors[name].dtype}, "
                                 f"expected a float type")
    known = set(expected) | set(TENSORS) | {"associations", "scores"}
    stray = sorted(k for k in tensors if k not in known and not k.startswith(("mirna_mean.", "calibration.")))
    if stray:
        raise ModelFileError(f"{path}: inconsistent model file: tensor(s) {stray[:3]} belong to no part of the model")
    state = {_state_key(k): torch.from_numpy(tensors[k].astype(np.asarray(weights[_state_key(k)]).dtype, copy=False))
             for k in expected}
    network.load_state_dict(state, strict=True)
    network.eval()
    return network
