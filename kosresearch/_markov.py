"""Exact algebra of absorbing Markov chains, shared by the simulator and attribution.

A chain is given by a row-stochastic matrix ``P`` over ``states``. Absorbing
probabilities come from the fundamental matrix ``N = (I - Q)^-1`` (Kemeny &
Snell 1976, ch. 3): ``B = N R`` where ``Q`` holds transient-to-transient and
``R`` transient-to-absorbing probabilities. No simulation is involved.

General finite chains (used by the tier transitions): ``n_step``,
``communicating_classes``, ``stationary_distribution``, ``mean_first_passage``
(first-step analysis, diagonal = mean recurrence times), ``fundamental_matrix``,
``absorption_times`` and ``quasi_stationary``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "absorption_matrix",
    "conversion_probability",
    "removal_effects",
    "n_step",
    "communicating_classes",
    "is_irreducible",
    "stationary_distribution",
    "reach_probability",
    "mean_first_passage",
    "fundamental_matrix",
    "absorption_times",
    "quasi_stationary",
]


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


# --------------------------------------------------------------------------- general finite chains
#
# Used by kosresearch.tiers.transitions. References: Kemeny & Snell (1976),
# *Finite Markov Chains*, ch. 3-4; Grinstead & Snell (1997), *Introduction to
# Probability*, ch. 11; Darroch & Seneta (1965) for quasi-stationary laws.


def n_step(P: np.ndarray, n: int) -> np.ndarray:
    """``P`` to the power ``n``: ``P^n[i, j]`` is the probability of being in ``j`` ``n`` steps after ``i``."""
    return np.linalg.matrix_power(np.asarray(P, dtype=float), int(n))


def communicating_classes(P: np.ndarray, *, tol: float = 0.0) -> list[np.ndarray]:
    """Communicating classes of ``P`` (strongly connected components of the graph ``P > tol``)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    P = np.asarray(P, dtype=float)
    n, labels = connected_components(csr_matrix(P > tol), directed=True, connection="strong")
    return [np.flatnonzero(labels == k) for k in range(n)]


def is_irreducible(P: np.ndarray, *, tol: float = 0.0) -> bool:
    """True when every state can reach every other state."""
    return len(communicating_classes(P, tol=tol)) == 1


def stationary_distribution(P: np.ndarray) -> np.ndarray:
    """The stationary distribution ``w`` (``w P = w``, ``sum(w) = 1``) of an irreducible chain.

    Solved as the linear system ``w (I - P + 1 1') = 1'`` (Grinstead & Snell
    1997, section 11.3), which is non-singular exactly when the chain has a
    single recurrent class.
    """
    P = np.asarray(P, dtype=float)
    n = P.shape[0]
    A = np.eye(n) - P + np.ones((n, n))
    return np.linalg.solve(A.T, np.ones(n))


def reach_probability(P: np.ndarray, target: int) -> np.ndarray:
    """``h[i]``: probability that a walk from ``i`` ever visits ``target`` (``h[target] = 1``).

    The minimal non-negative solution of ``h = P h`` off the target: states
    with no path to ``target`` get 0, the others solve a non-singular system.
    """
    P = np.asarray(P, dtype=float)
    n = P.shape[0]
    reach = _can_reach(P, target)
    h = np.zeros(n)
    h[target] = 1.0
    R = np.flatnonzero(reach & (np.arange(n) != target))
    if R.size:
        h[R] = np.linalg.solve(np.eye(R.size) - P[np.ix_(R, R)], P[R, target])
    return np.clip(h, 0.0, 1.0)


def mean_first_passage(P: np.ndarray, *, tol: float = 1e-9) -> np.ndarray:
    """Mean first-passage times ``M[i, j]`` (steps to first reach ``j`` from ``i``); the diagonal holds mean recurrence times.

    ``M[i, j]`` is finite exactly when a walk from ``i`` reaches ``j`` with
    probability 1; it then solves ``m_i = 1 + sum_{k != j} P[i, k] m_k``
    (first-step analysis, Grinstead & Snell 1997, section 11.5). The return
    time is ``M[j, j] = 1 + sum_{k != j} P[j, k] M[k, j]``; for an
    irreducible chain it equals ``1 / w[j]`` (Kac's formula). Unreachable
    or not-surely-reached targets give ``inf``.
    """
    P = np.asarray(P, dtype=float)
    n = P.shape[0]
    M = np.full((n, n), np.inf)
    for j in range(n):
        h = reach_probability(P, j)
        sure = np.flatnonzero((h > 1.0 - tol) & (np.arange(n) != j))
        m = np.full(n, np.inf)
        m[j] = 0.0
        if sure.size:
            m[sure] = np.linalg.solve(np.eye(sure.size) - P[np.ix_(sure, sure)], np.ones(sure.size))
        M[:, j] = m
        others = np.arange(n) != j
        step = P[j, others]
        M[j, j] = 1.0 + (float(step[step > 0] @ m[others][step > 0]) if (step > 0).any() else 0.0)
    return M


def fundamental_matrix(P: np.ndarray, transient: Sequence[int]) -> np.ndarray:
    """``N = (I - Q)^-1``: expected visits to transient ``j`` starting from transient ``i`` (Kemeny & Snell 1976, 3.2.1)."""
    P = np.asarray(P, dtype=float)
    t = np.asarray(transient, dtype=int)
    return np.linalg.inv(np.eye(len(t)) - P[np.ix_(t, t)])


def absorption_times(P: np.ndarray, transient: Sequence[int]) -> np.ndarray:
    """Expected steps before absorption from each transient state, ``t = N 1`` (Kemeny & Snell 1976, 3.3.5)."""
    P = np.asarray(P, dtype=float)
    t = np.asarray(transient, dtype=int)
    return np.linalg.solve(np.eye(len(t)) - P[np.ix_(t, t)], np.ones(len(t)))


def quasi_stationary(P: np.ndarray, transient: Sequence[int]) -> np.ndarray:
    """Quasi-stationary distribution over ``transient``: the limiting mix among walks not yet absorbed.

    The normalised left Perron eigenvector of the transient block ``Q``
    (Darroch & Seneta 1965), for a transient block that is one
    communicating class.
    """
    P = np.asarray(P, dtype=float)
    t = np.asarray(transient, dtype=int)
    Q = P[np.ix_(t, t)]
    vals, vecs = np.linalg.eig(Q.T)
    k = int(np.argmax(vals.real))
    v = np.abs(vecs[:, k].real)
    return v / v.sum()


def _can_reach(P: np.ndarray, target: int) -> np.ndarray:
    """Boolean mask of the states with a path (of length >= 0) to ``target``."""
    adj = np.asarray(P) > 0
    seen = np.zeros(adj.shape[0], bool)
    seen[target] = True
    frontier = seen.copy()
    while frontier.any():
        new = adj[:, frontier].any(axis=1) & ~seen
        seen |= new
        frontier = new
    return seen
