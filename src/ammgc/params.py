"""Declared constraints of every method's parameters, checked in one place before any work.

Each method lists ``parameters = {name: constraint}`` beside its ``Config``; ``Method.fit`` (and the CLI,
before it creates anything) calls ``check_params``, so ``epochs_gcn=-3``, ``p_neg=NaN``, ``hidden=128`` or
``fusion="bogus"`` fail at once with an error that names the parameter, the value and what is allowed,
never after training or with a traceback. The shape follows scikit-learn's ``_parameter_constraints``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ammgc.errors import AmmgcError


class ParameterError(AmmgcError, ValueError):
    """A method parameter outside its declared constraint."""


class Constraint:
    def allowed(self) -> str:
        raise NotImplementedError

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Number(Constraint):
    """An int (``integer=True``) or a finite real in [low, high] (bounds optional; ``open`` excludes low)."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
    open_low: bool = False
    open_high: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            return False
        if self.integer and not isinstance(value, int | np.integer):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or (value < self.high if self.open_high else value <= self.high)

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.open_low else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.open_high else '<='} {self.high:g}")
        return kind + (" " + " and ".join(bounds) if bounds else "")


@dataclass(frozen=True)
class OneOf(Constraint):
    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str | bool | type(None)) and value in self.values

    def allowed(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Sizes(Constraint):
    """A non-empty list of integers in [low, high] (layer widths, modal numbers)."""

    low: int = 1
    high: int = 4096

    def accepts(self, value: Any) -> bool:
        item = Number(self.low, self.high, integer=True)
        return isinstance(value, list | tuple) and len(value) > 0 and all(item.accepts(v) for v in value)

    def allowed(self) -> str:
        return f"a non-empty list of integers from {self.low} to {self.high}, e.g. [128, 256]"


@dataclass(frozen=True)
class Names(Constraint):
    """A non-empty list of distinct, non-empty names (feature views). A plain string is refused: it would be
    read letter by letter."""

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, list | tuple) and len(value) > 0 and len(set(value)) == len(value)
                and all(isinstance(v, str) and v.strip() for v in value))

    def allowed(self) -> str:
        return 'a non-empty list of distinct view names, e.g. ["fingerprint", "smiles_code"]'


class Name(Constraint):
    """One non-empty name (a feature view)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def allowed(self) -> str:
        return 'a view name, e.g. "fingerprint"'


@dataclass(frozen=True)
class Optional(Constraint):
    inner: Constraint

    def accepts(self, value: Any) -> bool:
        return value is None or self.inner.accepts(value)

    def allowed(self) -> str:
        return f"null or {self.inner.allowed()}"


_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


class Device(Constraint):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(_DEVICE.match(value))

    def allowed(self) -> str:
        return "cpu, cuda, cuda:N or mps"


#: Bounds that keep a typo from exhausting memory or running for days.
MAX_EPOCHS = 100_000
EPOCHS = Number(1, MAX_EPOCHS, integer=True)
LEARNING_RATE = Number(0, open_low=True)
NEGATIVE_RATIO = Number(0, 1000, open_low=True)
PROBABILITY = Number(0, 1)
NON_NEGATIVE = Number(0)


def check_params(method: str, params: Mapping[str, Any], constraints: Mapping[str, Constraint]) -> None:
    """Raise ``ParameterError`` for the first parameter outside its constraint."""
    for name, constraint in constraints.items():
        value = params[name]
        if not constraint.accepts(value):
            raise ParameterError(f"{method} parameter {name}={value!r}: must be {constraint.allowed()}")


def check_seed(seed: Any, *, what: str = "seed") -> int:
    """A seed: an integer from 0 to 2**63 - 1 (fold seeds derived from any --seed stay in range)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**63:
        raise ParameterError(f"{what}={seed!r}: must be an integer from 0 to 2**63 - 1")
    return int(seed)
