"""Tier transition matrices with intervals, chain algebra on them, projections and comparisons.

The estimator is the maximum-likelihood estimate of a first-order,
time-homogeneous Markov chain from panel data (Anderson & Goodman 1957):
``p_ij = n_ij / n_i.`` where ``n_ij`` counts the pairs of one id's rows
exactly one period apart that go from ``i`` to ``j``. Intervals and every
derived quantity's uncertainty come from the conjugate posterior: each row is
``Dirichlet(n_i. + 1/2)`` (Jeffreys prior 1/2 per cell).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kosresearch import _markov
from kosresearch._results import Result, new_axes
from kosresearch._validation import check_choice, check_conf_level, check_panel_unique, check_positive, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers._periods import period_ordinals

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "TIER_STATES",
    "TransitionResult",
    "SegmentedTransitions",
    "AbsorptionResult",
    "ProjectionResult",
    "ComparisonResult",
    "transition_matrix",
    "compare_transitions",
]

#: the tier states in their natural order (best first, absorbing last)
TIER_STATES: tuple[str, ...] = ("core", "potential", "mass", "churned")

#: colours of the tiers in every tier figure
TIER_COLORS: dict[str, str] = {"core": "#C44E52", "potential": "#DD8452", "mass": "#4C72B0", "churned": "#8C8C8C",
                               "new": "#8172B3"}

#: Jeffreys prior mass per cell of each Dirichlet row
PRIOR = 0.5

_DRAWS = 2000


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TransitionResult(Result):
    """An estimated transition matrix with intervals.

    Attributes
    ----------
    table : DataFrame
        One row per (from, to) cell: ``from_state, to_state, count,
        probability, conf_low, conf_high``.
    conf_level : float
        Level of the intervals.
    counts : DataFrame
        Transition counts, rows = from state, columns = to state (``states`` order).
    probabilities : DataFrame
        Maximum-likelihood probabilities (row-normalised counts); a row of
        NaN for a state never left from.
    states : tuple of str
        State order.
    n_ids : int
        Ids contributing at least one transition.
    label : str or None
        Segment or sample label (set by ``by=``).
    """

    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    probabilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    states: tuple = ()
    n_ids: int = 0
    label: Any = None

    _display_names = {
        "from_state": "from",
        "to_state": "to",
        "count": "transitions",
        "probability": "probability",
        "conf_low": "CI low",
        "conf_high": "CI high",
    }

    # -------------------------------------------------------------- algebra

    def _P(self) -> np.ndarray:
        P = self.probabilities.to_numpy(dtype=float)
        empty = [s for s, row in zip(self.states, P) if np.isnan(row).any()]
        if empty:
            raise KosDataError(
                f"no transitions were observed from state(s) {empty}, so the chain is not fully estimated; "
                "leave them out with states=... or use more data"
            )
        return P

    def n_step(self, n: int) -> pd.DataFrame:
        """``n``-period transition probabilities ``P^n`` (rows = from, columns = to)."""
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise KosParameterError(f"n={n!r} must be a whole number of periods, at least 0")
        return self._frame(_markov.n_step(self._P(), int(n)))

    def stationary(self) -> pd.Series:
        """Stationary distribution ``w`` (``w P = w``) of an irreducible chain, indexed by state.

        Raises
        ------
        KosDataError
            The chain is not irreducible (e.g. ``churned`` is absorbing);
            see :meth:`quasi_stationary` and :meth:`absorption`.
        """
        P = self._P()
        classes = _markov.communicating_classes(P)
        if len(classes) > 1:
            groups = [[self.states[i] for i in c] for c in classes]
            raise KosDataError(
                f"the chain is not irreducible (communicating classes {groups}), so its stationary distribution "
                "is not unique; for a chain with an absorbing state use .quasi_stationary(absorbing=...) for the "
                "long-run mix among those not absorbed, and .absorption(...) for the time to absorption"
            )
        return pd.Series(_markov.stationary_distribution(P), index=list(self.states), name="stationary")

    def quasi_stationary(self, absorbing: Sequence[str] = ("churned",)) -> pd.Series:
        """Long-run mix among ids not yet absorbed (Darroch & Seneta 1965), indexed by transient state."""
        P = self._P()
        _, transient = self._split(absorbing)
        w = _markov.quasi_stationary(P, transient)
        return pd.Series(w, index=[self.states[i] for i in transient], name="quasi_stationary")

    def mean_first_passage(self) -> pd.DataFrame:
        """Expected periods to first reach each state (columns) from each state (rows).

        The diagonal holds mean recurrence times (expected periods to return);
        ``inf`` where the target is not reached with probability 1 (e.g. from
        an absorbing state, or back to a state the chain may leave for good).
        """
        return self._frame(_markov.mean_first_passage(self._P()))

    def absorption(
        self, absorbing: Sequence[str] = ("churned",), *, n_draws: int = _DRAWS, seed: int = 0
    ) -> "AbsorptionResult":
        """Absorption probabilities and expected periods to absorption, from the fundamental matrix.

        The states in ``absorbing`` are made absorbing (if the data show moves
        out of them, results describe the *first* entry). With ``Q`` the
        transient block and ``R`` transient-to-absorbing, ``N = (I - Q)^-1``,
        probabilities ``B = N R`` and expected steps ``t = N 1`` (Kemeny &
        Snell 1976, ch. 3). Intervals: quantiles over ``n_draws`` matrices
        from the Dirichlet posterior.
        """
        P = self._P()
        absorbing_idx, transient = self._split(absorbing)
        Pa = _make_absorbing(P, absorbing_idx)
        if _singular(Pa, transient):
            raise KosDataError(
                f"some transient states never reach {list(absorbing)}, so absorption is not certain; "
                "check the states and the data"
            )
        B = _markov.absorption_matrix(Pa, transient, absorbing_idx)
        t = _markov.absorption_times(Pa, transient)
        draws = self.posterior_draws(n_draws, seed=seed)
        Bd = np.empty((n_draws, len(transient), len(absorbing_idx)))
        td = np.empty((n_draws, len(transient)))
        for k in range(n_draws):
            Dk = _make_absorbing(draws[k], absorbing_idx)
            Bd[k] = _markov.absorption_matrix(Dk, transient, absorbing_idx)
            td[k] = _markov.absorption_times(Dk, transient)
        q = _quantiles(self.conf_level)
        t_names = [self.states[i] for i in transient]
        a_names = [self.states[i] for i in absorbing_idx]
        rows = []
        for i, s in enumerate(t_names):
            lo, hi = np.quantile(td[:, i], q)
            rows.append({"from_state": s, "measure": "expected_steps", "to_state": None, "estimate": t[i],
                         "conf_low": lo, "conf_high": hi})
            for j, a in enumerate(a_names):
                lo, hi = np.quantile(Bd[:, i, j], q)
                rows.append({"from_state": s, "measure": "probability", "to_state": a, "estimate": B[i, j],
                             "conf_low": lo, "conf_high": hi})
        return AbsorptionResult(
            table=pd.DataFrame(rows),
            conf_level=self.conf_level,
            probabilities=pd.DataFrame(B, index=pd.Index(t_names, name="from_state"),
                                       columns=pd.Index(a_names, name="to_state")),
            expected_steps=pd.Series(t, index=pd.Index(t_names, name="from_state"), name="expected_steps"),
        )

    def project(
        self, initial: Mapping[str, float] | pd.Series, steps: int, *, n_draws: int = _DRAWS, seed: int = 0
    ) -> "ProjectionResult":
        """Forecast the state mix ``steps`` periods ahead, ``x_s = x_0 P^s``, with intervals.

        Parameters
        ----------
        initial : mapping or Series of state -> count or share
            The mix now (counts are normalised to shares; the total is kept
            to report expected counts). States not given count as 0.
        steps : int
            Periods ahead (at least 1).
        n_draws : int, default 2000
            Posterior draws of the matrix for the intervals.
        seed : int, default 0
            Seed of the draws.

        Returns
        -------
        ProjectionResult
            ``table``: step, state, share, conf_low, conf_high, expected_count.

        Notes
        -----
        The intervals reflect the uncertainty of the estimated matrix (draws
        from its Dirichlet posterior), not the sampling noise of a finite
        population nor changes of the matrix over time; the forecast assumes
        the chain stays time-homogeneous. The long-run mix is the stationary
        distribution when the chain is irreducible, otherwise the
        quasi-stationary mix among the not-yet-absorbed (closed single states
        taken as absorbing).
        """
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise KosParameterError(f"steps={steps!r} must be a whole number of periods, at least 1")
        x0, total = self._initial(initial)
        P = self._P()
        draws = self.posterior_draws(n_draws, seed=seed)
        q = _quantiles(self.conf_level)
        rows = []
        x = x0.copy()
        xd = np.repeat(x0[None, :], n_draws, axis=0)
        for s in range(int(steps) + 1):
            if s > 0:
                x = x @ P
                xd = np.einsum("ki,kij->kj", xd, draws)
            lo, hi = np.quantile(xd, q, axis=0)
            for j, st in enumerate(self.states):
                rows.append({"step": s, "state": st, "share": x[j], "conf_low": lo[j], "conf_high": hi[j],
                             "expected_count": x[j] * total if total is not None else np.nan})
        limit, kind = self._limit(P)
        return ProjectionResult(table=pd.DataFrame(rows), conf_level=self.conf_level, limit=limit, limit_kind=kind,
                                states=self.states)

    def posterior_draws(self, n_draws: int = _DRAWS, *, seed: int = 0) -> np.ndarray:
        """``n_draws`` transition matrices from the posterior, shape ``(n_draws, K, K)``.

        Each row is ``Dirichlet(n_ij + 1/2)`` over the destinations observed
        at least once from that state; destinations never observed stay at 0
        in every draw, so structural zeros (e.g. out of an absorbing
        ``churned``) keep the chain's structure in derived quantities. Rows
        without data are NaN.
        """
        check_positive("n_draws", n_draws)
        rng = np.random.default_rng(seed)
        C = self.counts.to_numpy(dtype=float)
        k = C.shape[0]
        out = np.zeros((int(n_draws), k, k))
        for i in range(k):
            seen = C[i] > 0
            if not seen.any():
                out[:, i, :] = np.nan
                continue
            g = rng.gamma(C[i, seen] + PRIOR, size=(int(n_draws), int(seen.sum())))
            out[:, i, seen] = g / g.sum(axis=1, keepdims=True)
        return out

    def long_run(self, *, n_draws: int = _DRAWS, seed: int = 0) -> pd.DataFrame:
        """Long-run state mix with intervals: stationary if irreducible, else quasi-stationary.

        Returns
        -------
        DataFrame
            ``state, share, conf_low, conf_high, kind`` (``kind`` is
            ``"stationary"`` or ``"quasi-stationary"``; the latter covers the
            states not absorbed, absorbing states being those never left).
            Intervals: quantiles over posterior draws of the matrix.
        """
        P = self._P()
        limit, kind = self._limit(P)
        if kind == "none":
            raise KosDataError("the chain has neither a unique stationary distribution nor a single transient class")
        idx = [self.states.index(s) for s in limit.index]
        draws = self.posterior_draws(n_draws, seed=seed)
        vals = np.empty((int(n_draws), len(idx)))
        for k in range(int(n_draws)):
            if kind == "stationary":
                vals[k] = _markov.stationary_distribution(draws[k])
            else:
                vals[k] = _markov.quasi_stationary(draws[k], idx)
        lo, hi = np.quantile(vals, _quantiles(self.conf_level), axis=0)
        return pd.DataFrame({"state": list(limit.index), "share": limit.to_numpy(), "conf_low": lo, "conf_high": hi,
                             "kind": kind})

    # -------------------------------------------------------------- display

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """The tidy table rounded for display."""
        return super().summary(digits=digits)

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Heatmap of the probabilities, each cell annotated with the estimate and its interval."""
        ax = new_axes(ax, figsize=(1.6 * len(self.states) + 2.0, 1.2 * len(self.states) + 1.0))
        P = self.probabilities.to_numpy(dtype=float)
        ax.imshow(np.nan_to_num(P, nan=0.0), cmap="Blues", vmin=0.0, vmax=1.0)
        lo = self.table.pivot(index="from_state", columns="to_state", values="conf_low").reindex(
            index=list(self.states), columns=list(self.states))
        hi = self.table.pivot(index="from_state", columns="to_state", values="conf_high").reindex(
            index=list(self.states), columns=list(self.states))
        for i in range(len(self.states)):
            for j in range(len(self.states)):
                if np.isnan(P[i, j]):
                    txt = "–"
                else:
                    txt = f"{P[i, j]:.2f}\n[{lo.iat[i, j]:.2f}, {hi.iat[i, j]:.2f}]"
                ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                        color="white" if (not np.isnan(P[i, j]) and P[i, j] > 0.6) else "black")
        ax.set_xticks(range(len(self.states)), [str(s) for s in self.states])
        ax.set_yticks(range(len(self.states)), [str(s) for s in self.states])
        ax.grid(False)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        title = "transition probabilities" + (f" — {self.label}" if self.label is not None else "")
        ax.set_title(f"{title} ({self.conf_level:.0%} intervals)")
        return ax

    # -------------------------------------------------------------- helpers

    def _frame(self, M: np.ndarray) -> pd.DataFrame:
        idx = pd.Index(list(self.states), name="from_state")
        return pd.DataFrame(M, index=idx, columns=pd.Index(list(self.states), name="to_state"))

    def _split(self, absorbing: Sequence[str]) -> tuple[list[int], list[int]]:
        if isinstance(absorbing, str):
            absorbing = (absorbing,)
        unknown = [a for a in absorbing if a not in self.states]
        if unknown or not absorbing:
            raise KosParameterError(f"absorbing={tuple(absorbing)!r} must name states of {list(self.states)}")
        a_idx = [self.states.index(a) for a in absorbing]
        transient = [i for i in range(len(self.states)) if i not in a_idx]
        if not transient:
            raise KosParameterError(f"absorbing={tuple(absorbing)!r} leaves no transient state")
        return a_idx, transient

    def _initial(self, initial) -> tuple[np.ndarray, float | None]:
        if isinstance(initial, pd.Series):
            items = initial.to_dict()
        elif isinstance(initial, Mapping):
            items = dict(initial)
        else:
            raise KosParameterError(f"initial must be a mapping or Series of state -> count or share; got {type(initial).__name__}")
        unknown = [k for k in items if k not in self.states]
        if unknown:
            raise KosParameterError(f"initial names states {unknown} that are not in states={list(self.states)}")
        x = np.array([float(items.get(s, 0.0)) for s in self.states])
        if (x < 0).any() or not np.isfinite(x).all() or x.sum() <= 0:
            raise KosParameterError(f"initial={items!r} must hold non-negative numbers with a positive total")
        total = float(x.sum())
        is_share = abs(total - 1.0) < 1e-9
        return x / total, (None if is_share else total)

    def _limit(self, P: np.ndarray) -> tuple[pd.Series, str]:
        classes = _markov.communicating_classes(P)
        if len(classes) == 1:
            return pd.Series(_markov.stationary_distribution(P), index=list(self.states)), "stationary"
        absorbing = [i for i in range(len(P)) if P[i, i] >= 1.0 - 1e-12]
        transient = [i for i in range(len(P)) if i not in absorbing]
        if absorbing and transient and not _singular(P, transient):
            w = _markov.quasi_stationary(P, transient)
            return pd.Series(w, index=[self.states[i] for i in transient]), "quasi-stationary"
        return pd.Series(dtype=float), "none"


@dataclass(frozen=True)
class SegmentedTransitions(Result):
    """One transition matrix per segment (``transition_matrix(..., by=...)``).

    Attributes
    ----------
    table : DataFrame
        The segment column(s), then ``from_state, to_state, count,
        probability, conf_low, conf_high``.
    conf_level : float
        Level of the intervals.
    results : dict
        Segment value (a tuple for several ``by`` columns) -> :class:`TransitionResult`.
    by : tuple of str
        The segment columns.
    states : tuple of str
        Common state order.
    """

    results: dict = field(default_factory=dict)
    by: tuple = ()
    states: tuple = ()

    def __getitem__(self, key) -> TransitionResult:
        try:
            return self.results[key]
        except KeyError:
            raise KosParameterError(f"segment {key!r} is not one of {list(self.results)}") from None

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def segments(self) -> list:
        """Segment values, sorted."""
        return list(self.results)

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Staying probability (diagonal) of each state per segment, with intervals."""
        ax = new_axes(ax, figsize=(8.0, 4.0))
        diag = self.table[self.table["from_state"] == self.table["to_state"]]
        n_seg = len(self.results)
        width = 0.8 / max(n_seg, 1)
        x = np.arange(len(self.states))
        for k, seg in enumerate(self.results):
            d = diag[_segment_mask(diag, self.by, seg)].set_index("from_state").reindex(list(self.states))
            pos = x - 0.4 + width * (k + 0.5)
            err = np.vstack([d["probability"] - d["conf_low"], d["conf_high"] - d["probability"]])
            ax.errorbar(pos, d["probability"], yerr=err, fmt="o", capsize=2, label=str(seg))
        ax.set_xticks(x, [str(s) for s in self.states])
        ax.set_ylabel("probability of staying")
        ax.set_title(f"staying probability by {', '.join(self.by)} ({self.conf_level:.0%} intervals)")
        ax.legend(fontsize=7, ncol=2)
        return ax


@dataclass(frozen=True)
class AbsorptionResult(Result):
    """Absorption probabilities and expected periods to absorption.

    Attributes
    ----------
    table : DataFrame
        ``from_state, measure ("expected_steps" or "probability"), to_state,
        estimate, conf_low, conf_high``.
    conf_level : float
        Level of the intervals.
    probabilities : DataFrame
        Transient state (rows) × absorbing state (columns).
    expected_steps : Series
        Expected periods to absorption, indexed by transient state.
    """

    probabilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected_steps: pd.Series = field(default_factory=pd.Series)

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Expected periods to absorption per starting state, with intervals."""
        ax = new_axes(ax, figsize=(6.0, 3.5))
        d = self.table[self.table["measure"] == "expected_steps"]
        err = np.vstack([d["estimate"] - d["conf_low"], d["conf_high"] - d["estimate"]])
        ax.bar(d["from_state"].astype(str), d["estimate"], yerr=err, capsize=4, color="#4C72B0")
        ax.set_ylabel("expected periods to absorption")
        ax.set_title(f"time to absorption ({self.conf_level:.0%} intervals)")
        return ax


@dataclass(frozen=True)
class ProjectionResult(Result):
    """Projected state mix over the next periods.

    Attributes
    ----------
    table : DataFrame
        ``step, state, share, conf_low, conf_high, expected_count``.
    conf_level : float
        Level of the intervals.
    limit : Series
        Long-run mix (stationary, or quasi-stationary among the
        not-absorbed; empty when neither applies).
    limit_kind : str
        ``"stationary"``, ``"quasi-stationary"`` or ``"none"``.
    states : tuple of str
        State order.
    """

    limit: pd.Series = field(default_factory=pd.Series)
    limit_kind: str = "none"
    states: tuple = ()

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Share of each state per step with its band; the long-run mix as dashed lines."""
        ax = new_axes(ax, figsize=(7.0, 4.0))
        colors = dict(zip(self.states, _palette(self.states)))
        for st in self.states:
            d = self.table[self.table["state"] == st]
            ax.plot(d["step"], d["share"], marker="o", color=colors[st], label=str(st))
            ax.fill_between(d["step"], d["conf_low"], d["conf_high"], color=colors[st], alpha=0.2)
            if st in self.limit.index:
                ax.axhline(self.limit[st], color=colors[st], linestyle="--", linewidth=1)
        ax.set_xlabel("periods ahead")
        ax.set_ylabel("share")
        ax.set_title(f"projected mix ({self.conf_level:.0%} bands; dashed: {self.limit_kind} mix)")
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True)
class ComparisonResult(Result):
    """Test that two (or more) samples share one transition matrix.

    Attributes
    ----------
    table : DataFrame
        One row per from-state and a final ``"(all)"`` row: ``from_state,
        test, statistic, df, p_value, n_transitions, n_samples``.
    conf_level : float
        Kept for a uniform interface (the test has no interval).
    difference : DataFrame
        For two samples: probabilities of the first minus the second.
    """

    difference: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def statistic(self) -> float:
        return float(self.table["statistic"].iloc[-1])

    @property
    def df(self) -> int:
        return int(self.table["df"].iloc[-1])

    @property
    def p_value(self) -> float:
        return float(self.table["p_value"].iloc[-1])

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Heatmap of the difference of probabilities (two samples) or the per-row statistic."""
        ax = new_axes(ax, figsize=(6.0, 4.5))
        if len(self.difference):
            D = self.difference.to_numpy(dtype=float)
            m = np.nanmax(np.abs(D)) if np.isfinite(D).any() else 1.0
            ax.imshow(np.nan_to_num(D), cmap="RdBu_r", vmin=-m, vmax=m)
            for i in range(D.shape[0]):
                for j in range(D.shape[1]):
                    ax.text(j, i, "–" if np.isnan(D[i, j]) else f"{D[i, j]:+.3f}", ha="center", va="center", fontsize=8)
            ax.set_xticks(range(D.shape[1]), [str(c) for c in self.difference.columns])
            ax.set_yticks(range(D.shape[0]), [str(c) for c in self.difference.index])
            ax.grid(False)
            ax.set_xlabel("to")
            ax.set_ylabel("from")
        else:
            d = self.table.iloc[:-1]
            ax.bar(d["from_state"].astype(str), d["statistic"], color="#4C72B0")
            ax.set_ylabel("statistic")
        ax.set_title(f"difference of matrices: {self.table['test'].iloc[-1]} = {self.statistic:.1f}, "
                     f"df = {self.df}, p = {self.p_value:.3g}")
        return ax


# --------------------------------------------------------------------------- estimation


def transition_matrix(
    data: pd.DataFrame,
    *,
    id_col: str,
    period_col: str,
    state_col: str,
    states: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> TransitionResult | SegmentedTransitions:
    """Estimate a first-order Markov transition matrix between states from a panel.

    Parameters
    ----------
    data : DataFrame
        One row per id and period, e.g. the table of :func:`assign_tiers`.
    id_col : str
        Column of the id (customer).
    period_col : str
        Column of the period: labels such as ``"2024-03"``, ``"2024-Q1"``,
        ``"2024-W09"``, pandas Periods, integers, or month-start timestamps.
    state_col : str
        Column of the state (tier).
    states : sequence of str, optional
        State order of rows and columns. Default: the tiers ``core,
        potential, mass, churned`` when the values are among them, otherwise
        the sorted values. A value not in ``states`` is an error.
    by : str or sequence of str, optional
        Segment column(s) (region, store, KOS, acquisition channel...): one
        matrix per segment, each transition assigned to the segment of its
        from-row.
    conf_level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    TransitionResult or SegmentedTransitions
        ``.table``: from_state, to_state, count, probability, conf_low,
        conf_high (plus the segment columns with ``by``); ``.counts`` and
        ``.probabilities`` (from × to); chain algebra ``n_step``,
        ``stationary``, ``mean_first_passage``, ``absorption``, ``project``.

    Raises
    ------
    KosDataError
        Missing columns, duplicate (id, period) rows, missing states or
        periods, or a state not in ``states``.
    KosParameterError
        Bad ``conf_level`` or ``states``.

    Warns
    -----
    UserWarning
        A state is never left from in the data: its row is NaN, never invented.

    See Also
    --------
    compare_transitions : test whether two segments or periods share a matrix.
    assign_tiers : the tier panel this is usually estimated from.

    Notes
    -----
    Estimand: ``p_ij = P(state_{t+1} = j | state_t = i)`` of a first-order,
    time-homogeneous chain. Only pairs of rows of one id exactly one period
    apart count; a gap breaks an id's chain there (it is not bridged by a
    two-period move). The MLE is ``n_ij / n_i.`` (Anderson & Goodman 1957).
    Intervals: equal-tailed quantiles of the marginal posterior
    ``Beta(n_ij + a, n_i. - n_ij + (K - 1) a)`` of the Dirichlet posterior
    with Jeffreys prior ``a = 1/2`` per cell; as in the Jeffreys binomial
    interval (Brown, Cai & DasGupta 2001), the lower bound is 0 when
    ``n_ij = 0`` and the upper bound 1 when ``n_ij = n_i.``. Given the
    from-states, transitions are conditionally independent under the Markov
    model, so the posterior needs no clustering by id.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"id": [1, 1, 1, 2, 2], "t": [1, 2, 3, 1, 2],
    ...                   "s": ["a", "b", "b", "a", "a"]})
    >>> transition_matrix(d, id_col="id", period_col="t", state_col="s").probabilities  # doctest: +NORMALIZE_WHITESPACE
    to_state      a    b
    from_state
    a           0.5  0.5
    b           0.0  1.0
    """
    check_conf_level(conf_level)
    by_cols = _by_columns(by)
    cols = {"id_col": id_col, "period_col": period_col, "state_col": state_col}
    cols.update({f"by[{i}]": c for i, c in enumerate(by_cols)})
    require_columns(data, cols)
    d = data[[id_col, period_col, state_col, *by_cols]].copy()
    check_panel_unique(d, [id_col, period_col])
    if d[state_col].isna().any():
        bad = d[d[state_col].isna()]
        raise KosDataError(f"state_col={state_col!r} has {len(bad)} missing values (first at row {bad.index[0]!r})")
    st = _states(d[state_col], states)
    unknown = sorted(set(d[state_col].astype(str)) - set(st))
    if unknown:
        n_bad = int((~d[state_col].astype(str).isin(st)).sum())
        raise KosDataError(
            f"state_col={state_col!r} has {n_bad} rows with values not in states={list(st)}: {unknown[:5]}"
        )
    code = pd.Categorical(d[state_col].astype(str), categories=list(st)).codes.astype(np.int64)
    ordn = period_ordinals(d[period_col], col=period_col)
    ids = pd.factorize(d[id_col])[0]
    order = np.lexsort((ordn, ids))
    ids, ordn, code = ids[order], ordn[order], code[order]
    pair = (ids[1:] == ids[:-1]) & (ordn[1:] - ordn[:-1] == 1)
    f_code, t_code = code[:-1][pair], code[1:][pair]
    pair_ids = ids[:-1][pair]
    if not by_cols:
        return _result(f_code, t_code, pair_ids, st, conf_level, label=None)
    seg_frame = d[by_cols].iloc[order].iloc[:-1][pair].reset_index(drop=True)
    keys = seg_frame.apply(tuple, axis=1) if len(by_cols) > 1 else seg_frame[by_cols[0]]
    results: dict = {}
    tables = []
    for key in sorted(pd.unique(keys.dropna()), key=str):
        m = (keys == key).to_numpy()
        res = _result(f_code[m], t_code[m], pair_ids[m], st, conf_level, label=key)
        results[key] = res
        tab = res.table.copy()
        vals = key if isinstance(key, tuple) else (key,)
        for c, v in zip(reversed(by_cols), reversed(vals)):
            tab.insert(0, c, v)
        tables.append(tab)
    if not results:
        raise KosDataError(f"by={by!r}: no transitions with a segment value (all segment values are missing)")
    return SegmentedTransitions(table=pd.concat(tables, ignore_index=True), conf_level=conf_level, results=results,
                                by=tuple(by_cols), states=st)


def _result(f_code, t_code, pair_ids, st, conf_level, *, label) -> TransitionResult:
    k = len(st)
    C = np.bincount(f_code * k + t_code, minlength=k * k).reshape(k, k).astype(np.int64)
    n_row = C.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = C / n_row[:, None]
    P[n_row == 0] = np.nan
    never = [s for s, n in zip(st, n_row) if n == 0]
    if never:
        where = f" in segment {label!r}" if label is not None else ""
        warnings.warn(
            f"no transitions out of state(s) {never}{where}: their rows are NaN (no data), not estimated",
            UserWarning, stacklevel=3,
        )
    lo, hi = _dirichlet_marginal_interval(C, conf_level)
    idx = pd.Index(list(st), name="from_state")
    cols = pd.Index(list(st), name="to_state")
    table = pd.DataFrame({
        "from_state": np.repeat(list(st), k),
        "to_state": np.tile(list(st), k),
        "count": C.ravel(),
        "probability": P.ravel(),
        "conf_low": lo.ravel(),
        "conf_high": hi.ravel(),
    })
    return TransitionResult(
        table=table, conf_level=conf_level,
        counts=pd.DataFrame(C, index=idx, columns=cols),
        probabilities=pd.DataFrame(P, index=idx.copy(), columns=cols.copy()),
        states=tuple(st), n_ids=int(np.unique(pair_ids).size), label=label,
    )


def _dirichlet_marginal_interval(C: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats

    k = C.shape[1]
    n = C.sum(axis=1, keepdims=True).astype(float)
    a = C + PRIOR
    b = n - C + (k - 1) * PRIOR
    q_lo, q_hi = _quantiles(conf_level)
    lo = stats.beta.ppf(q_lo, a, b)
    hi = stats.beta.ppf(q_hi, a, b)
    lo = np.where(C == 0, 0.0, lo)
    hi = np.where(C == n, 1.0, hi)
    empty = (n == 0).ravel()
    lo[empty] = np.nan
    hi[empty] = np.nan
    return lo, hi


# --------------------------------------------------------------------------- comparison


def compare_transitions(
    a: TransitionResult | SegmentedTransitions,
    b: TransitionResult | None = None,
    *,
    test: Literal["lr", "pearson"] = "lr",
) -> ComparisonResult:
    """Test whether two samples (segments or periods) share one transition matrix.

    Parameters
    ----------
    a : TransitionResult or SegmentedTransitions
        The first sample; or, with ``b`` omitted, a segmented result whose
        segments are all compared at once (homogeneity of ``k`` chains).
    b : TransitionResult, optional
        The second sample.
    test : {"lr", "pearson"}, default "lr"
        Likelihood-ratio ``G²`` or Pearson ``X²`` statistic.

    Returns
    -------
    ComparisonResult
        ``.table``: one row per from-state plus ``"(all)"``: from_state,
        test, statistic, df, p_value, n_transitions, n_samples;
        ``.statistic``, ``.df``, ``.p_value`` of the overall test;
        ``.difference`` (a minus b) for two samples.

    Raises
    ------
    KosParameterError
        ``a``/``b`` are not transition results, or ``test`` is unknown.

    Notes
    -----
    H0: every sample has the same matrix. For from-state ``i`` with pooled
    estimate ``p_ij = sum_s n_sij / sum_s n_si.``,
    ``G² = 2 sum_s sum_j n_sij log(n_sij / (n_si. p_ij))`` (Pearson:
    ``sum (n_sij - n_si. p_ij)² / (n_si. p_ij)``), asymptotically
    chi-square with ``(S_i - 1)(J_i - 1)`` degrees of freedom, where
    ``S_i`` counts the samples with transitions out of ``i`` and ``J_i`` the
    destinations seen in the pooled data (structural zeros add no df). Rows
    add up (Anderson & Goodman 1957, section 3.3). The samples must be
    independent (e.g. disjoint sets of customers, or non-overlapping periods
    under the Markov assumption).
    """
    check_choice("test", test, ["lr", "pearson"])
    if b is None:
        if not isinstance(a, SegmentedTransitions):
            raise KosParameterError("compare_transitions(a) without b needs a result of transition_matrix(..., by=...)")
        samples = list(a.results.values())
        labels = list(a.results)
    else:
        for name, r in (("a", a), ("b", b)):
            if not isinstance(r, TransitionResult):
                raise KosParameterError(f"{name} must be a TransitionResult from transition_matrix; got {type(r).__name__}")
        samples = [a, b]
        labels = [a.label if a.label is not None else "a", b.label if b.label is not None else "b"]
    if len(samples) < 2:
        raise KosParameterError(f"compare_transitions needs at least two samples; got {len(samples)}")
    states = list(samples[0].states)
    for r in samples[1:]:
        states += [s for s in r.states if s not in states]
    C = np.stack([r.counts.reindex(index=states, columns=states, fill_value=0).to_numpy(dtype=float) for r in samples])
    rows = []
    total_stat, total_df = 0.0, 0
    for i, s in enumerate(states):
        Ci = C[:, i, :]
        n_s = Ci.sum(axis=1)
        used = n_s > 0
        pooled = Ci[used].sum(axis=0)
        J = int((pooled > 0).sum())
        S = int(used.sum())
        dfi = max(S - 1, 0) * max(J - 1, 0)
        if dfi == 0:
            stat = 0.0
        else:
            p = pooled / pooled.sum()
            E = n_s[used, None] * p[None, :]
            O = Ci[used]
            keep = E > 0
            if test == "lr":
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = np.where(O > 0, O * np.log(O / np.where(keep, E, 1.0)), 0.0)
                stat = float(2.0 * terms[keep].sum())
            else:
                stat = float((((O - E) ** 2)[keep] / E[keep]).sum())
        total_stat += stat
        total_df += dfi
        rows.append({"from_state": s, "test": "G2" if test == "lr" else "X2", "statistic": stat, "df": dfi,
                     "p_value": _chi2_sf(stat, dfi), "n_transitions": int(n_s.sum()), "n_samples": S})
    rows.append({"from_state": "(all)", "test": "G2" if test == "lr" else "X2", "statistic": total_stat,
                 "df": total_df, "p_value": _chi2_sf(total_stat, total_df), "n_transitions": int(C.sum()),
                 "n_samples": len(samples)})
    diff = pd.DataFrame()
    if len(samples) == 2:
        Pa = samples[0].probabilities.reindex(index=states, columns=states)
        Pb = samples[1].probabilities.reindex(index=states, columns=states)
        diff = Pa - Pb
        diff.index.name, diff.columns.name = f"from ({labels[0]} - {labels[1]})", "to_state"
    return ComparisonResult(table=pd.DataFrame(rows), conf_level=samples[0].conf_level, difference=diff)


# --------------------------------------------------------------------------- helpers


def _chi2_sf(stat: float, df: int) -> float:
    from scipy import stats

    return float(stats.chi2.sf(stat, df)) if df > 0 else float("nan")


def _quantiles(conf_level: float) -> tuple[float, float]:
    alpha = 1.0 - conf_level
    return alpha / 2.0, 1.0 - alpha / 2.0


def _by_columns(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    cols = list(by)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise KosParameterError(f"by={by!r} must be a column name or a list of column names")
    return cols


def _states(values: pd.Series, states) -> tuple[str, ...]:
    if states is not None:
        if isinstance(states, str):
            raise KosParameterError(f"states={states!r} must be a list of state names, e.g. {list(TIER_STATES)}")
        st = tuple(str(s) for s in states)
        if len(set(st)) != len(st) or not st:
            raise KosParameterError(f"states={list(states)!r} must list distinct state names")
        return st
    seen = set(values.astype(str).unique())
    if seen <= set(TIER_STATES):
        return TIER_STATES
    return tuple(sorted(seen))


def _segment_mask(table: pd.DataFrame, by: tuple, key) -> np.ndarray:
    vals = key if isinstance(key, tuple) else (key,)
    m = np.ones(len(table), bool)
    for c, v in zip(by, vals):
        m &= (table[c] == v).to_numpy()
    return m


def _make_absorbing(P: np.ndarray, absorbing: Sequence[int]) -> np.ndarray:
    Pa = np.array(P, dtype=float, copy=True)
    for a in absorbing:
        Pa[a, :] = 0.0
        Pa[a, a] = 1.0
    return Pa


def _singular(P: np.ndarray, transient: Sequence[int]) -> bool:
    t = np.asarray(transient, dtype=int)
    A = np.eye(len(t)) - P[np.ix_(t, t)]
    return bool(np.linalg.cond(A) > 1e12)


def _palette(states) -> list:
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10"]
    return [TIER_COLORS.get(s, cmap(i % 10)) for i, s in enumerate(states)]
