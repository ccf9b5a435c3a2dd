"""Exact algebra of absorbing Markov chains, shared by the simulator and attribution.

A chain is given by a row-stochastic matrix ``P`` over ``states``. Absorbing
probabilities come from the fundamental matrix ``N = (I - Q)^-1`` (Kemeny &
Snell 1976, ch. 3): ``B = N R`` where ``Q`` holds transient-to-transient and
``R`` transient-to-absorbing probabilities. No simulation is involved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["absorption_matrix", "conversion_probability", "removal_effects"]


def absorption_matrix(P: np.ndarray, transient: Sequence[int], absorbing: Sequence[int]) -> np.ndarray:
    """Return ``B[i, j]``: probability that a walk from transient state ``i`` ends in absorbing ``j``."""
    P = np.asarray(P, dtype=float)
    t = np.asarray(transient, dtype=int)
    a = np.asarray(absorbing, dtype=int)
    Q = P[np.ix_(t, t)]
    R = P[np.ix_(t, a)]
    return np.linalg.solve(np.eye(len(t)) - Q, R)


def conversion_probability(P: np.ndarray, *, start: int, conversion: int, null: int) -> float:
    """Probability that a walk from ``start`` is absorbed in ``conversion`` rather than ``null``."""
    n = P.shape[0]
    transient = [i for i in range(n) if i not in (conversion, null)]
    B = absorption_matrix(P, transient, [conversion, null])
    return float(B[transient.index(start), 0])


def removal_effects(
    P: np.ndarray, *, start: int, conversion: int, null: int, channels: Sequence[int]
) -> np.ndarray:
    """Removal effect of each channel: ``1 - P(conversion | channel removed) / P(conversion)``.

    Removing channel ``c`` sends every transition into ``c`` to ``null``
    (the convention of Anderl et al. 2016 and of the ChannelAttribution
    package).
    """
    P = np.asarray(P, dtype=float)
    base = conversion_probability(P, start=start, conversion=conversion, null=null)
    out = np.empty(len(channels))
    for k, c in enumerate(channels):
        Pc = P.copy()
        Pc[:, null] += Pc[:, c]
        Pc[:, c] = 0.0
        Pc[c, :] = 0.0
        Pc[c, null] = 1.0
        out[k] = 1.0 - conversion_probability(Pc, start=start, conversion=conversion, null=null) / base
    return out
