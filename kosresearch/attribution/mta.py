"""Data-driven multi-touch attribution: Markov removal effects and Shapley values, with bootstrap intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from kosresearch._markov import removal_effects as _dense_removal_effects
from kosresearch._results import Result, new_axes
from kosresearch._validation import check_conf_level
from kosresearch.attribution._paths import PathTable, bootstrap_counts, parse_paths
from kosresearch.attribution.journeys import _check_position_weights, _credit_matrices, heuristic_credit
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "markov_attribution",
    "shapley_attribution",
    "compare_attribution",
    "MarkovResult",
    "ShapleyResult",
    "AttributionComparison",
]

MAX_SHAPLEY_CHANNELS = 15
#: chains with more states than this are solved with sparse LU
_DENSE_MAX_STATES = 400

#: Chinese names of the attribution methods in the comparison figure's legend
_METHOD_LABELS_ZH = {
    "first_touch": "首次触点", "last_touch": "末次触点", "linear": "线性", "time_decay": "时间衰减",
    "position_based": "位置加权", "markov": "马尔可夫", "shapley": "Shapley 值",
}


def _check_boot(n_boot, conf_level, seed) -> None:
    check_conf_level(conf_level)
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 0:
        raise KosParameterError(f"n_boot={n_boot!r} must be a whole number >= 0 (0 = no bootstrap)")
    if n_boot == 1:
        raise KosParameterError("n_boot=1 cannot give an interval; use 0 or at least 2 (e.g. 200)")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise KosParameterError(f"seed={seed!r} must be an integer")


def _percentiles(draws: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - conf_level) / 2.0
    return np.nanquantile(draws, a, axis=0), np.nanquantile(draws, 1.0 - a, axis=0)


# --------------------------------------------------------------------------- Markov


class _MarkovGraph:
    """States of an order-k chain over the unique paths, and how each path's journeys load on transitions."""

    def __init__(self, pt: PathTable, order: int) -> None:
        k_ch = len(pt.channels)
        base = k_ch + 1
        codes = pt.codes + 1  # 0 is reserved for "no channel" so shorter tuples differ
        pos = pt.position
        # state key of each touch: the last `order` channels (fewer at the start of a path)
        key = np.zeros(codes.size, dtype=np.int64)
        for lag in range(order):
            prev = np.zeros(codes.size, dtype=np.int64)
            ok = pos >= lag
            prev[ok] = codes[np.flatnonzero(ok) - lag]
            key += prev * base**lag
        uniq, state = np.unique(key, return_inverse=True)
        state = state + 1  # 0 = (start)
        self.n_states = uniq.size + 1
        # channels contained in each state
        members = np.zeros((self.n_states, k_ch), dtype=bool)
        digits = uniq.copy()
        for _ in range(order):
            d = digits % base
            has = d > 0
            members[np.flatnonzero(has) + 1, d[has] - 1] = True
            digits //= base
        self.members = members
        self.channel_states = [np.flatnonzero(members[:, c]) for c in range(k_ch)]
        # transitions: start -> first state, state_i -> state_{i+1}
        first = pos == 0
        src = np.where(first, 0, np.r_[0, state[:-1]])
        pair = src * self.n_states + state
        self.pairs, pair_idx = np.unique(pair, return_inverse=True)
        # paths x transitions incidence (how often each path makes each transition)
        self.incidence = sparse.csr_matrix(
            (np.ones(pair.size), (pt.path_of_touch, pair_idx)), shape=(pt.n_paths, self.pairs.size)
        )
        self.last_state = state[pt.offsets[1:] - 1]
        self.src = self.pairs // self.n_states
        self.dst = self.pairs % self.n_states

    def solve(self, conversions: np.ndarray, nulls: np.ndarray) -> tuple[float, np.ndarray]:
        """P(conversion) from start, and the removal effect of each channel (exact)."""
        n = self.n_states
        w = self.incidence.T @ (conversions + nulls)
        conv = np.bincount(self.last_state, conversions, minlength=n)
        nul = np.bincount(self.last_state, nulls, minlength=n)
        out_w = np.bincount(self.src, w, minlength=n) + conv + nul
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(out_w > 0, 1.0 / out_w, 0.0)
        r = conv * inv
        n_ch = len(self.channel_states)
        if n <= _DENSE_MAX_STATES:
            Q = np.zeros((n, n))
            np.add.at(Q, (self.src, self.dst), w * inv[self.src])
            A = np.eye(n) - Q
            base = np.linalg.solve(A, r)[0]
            re = np.empty(n_ch)
            for c, rm in enumerate(self.channel_states):
                keep = np.ones(n, bool)
                keep[rm] = False
                x = np.linalg.solve(A[np.ix_(keep, keep)], r[keep])
                re[c] = x[0]
        else:
            from scipy.sparse.linalg import spsolve

            Q = sparse.csr_matrix((w * inv[self.src], (self.src, self.dst)), shape=(n, n))
            A = (sparse.identity(n, format="csr") - Q).tocsc()
            base = spsolve(A, r)[0]
            re = np.empty(n_ch)
            for c, rm in enumerate(self.channel_states):
                keep = np.ones(n, bool)
                keep[rm] = False
                idx = np.flatnonzero(keep)
                re[c] = spsolve(A[idx][:, idx].tocsc(), r[idx])[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            effects = 1.0 - re / base if base > 0 else np.full(n_ch, np.nan)
        return float(base), effects


def _order1_dense(pt: PathTable, conversions: np.ndarray, nulls: np.ndarray) -> tuple[float, np.ndarray]:
    """First-order chain via the shared absorbing-chain algebra (``kosresearch._markov``)."""
    from kosresearch._markov import conversion_probability

    k = len(pt.channels)
    n = k + 3  # (start), channels, (conversion), (null)
    conv_s, null_s = k + 1, k + 2
    L = pt.lengths
    tot = conversions + nulls
    src = np.where(pt.position == 0, 0, np.r_[0, pt.codes[:-1] + 1])
    dst = pt.codes + 1
    C = np.zeros((n, n))
    np.add.at(C, (src, dst), np.repeat(tot, L))
    last = pt.codes[pt.offsets[1:] - 1] + 1
    np.add.at(C, (last, np.full(last.size, conv_s)), conversions)
    np.add.at(C, (last, np.full(last.size, null_s)), nulls)
    C[conv_s, conv_s] = C[null_s, null_s] = 1.0
    rows = C.sum(axis=1, keepdims=True)
    empty = rows[:, 0] == 0
    C[empty, null_s] = 1.0  # a channel never left (not observed) cannot be reached either
    P = C / C.sum(axis=1, keepdims=True)
    base = conversion_probability(P, start=0, conversion=conv_s, null=null_s)
    if base <= 0:
        return 0.0, np.full(k, np.nan)
    return base, _dense_removal_effects(P, start=0, conversion=conv_s, null=null_s, channels=list(range(1, k + 1)))


@dataclass(frozen=True, repr=False)
class MarkovResult(Result):
    """Markov-chain attribution.

    Attributes
    ----------
    table : DataFrame
        ``channel, removal_effect, conversions, share`` (+ ``value``); with a
        bootstrap also ``std_error, conf_low, conf_high`` (of the removal
        effect) and ``conversions_low, conversions_high``.
    conf_level : float
    order : int
        Order of the chain.
    conversion_probability : float
        P(conversion) from the start state of the fitted chain.
    n_states : int
        Transient states of the chain, start included.
    n_boot : int
    """

    order: int = 1
    conversion_probability: float = float("nan")
    n_states: int = 0
    n_boot: int = 0

    _display_names = {
        "channel": "channel", "removal_effect": "removal effect", "std_error": "std. error",
        "conf_low": "CI low", "conf_high": "CI high", "conversions": "conversions", "conversions_low": "conv. low",
        "conversions_high": "conv. high", "share": "share", "value": "value (CNY)",
    }

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Removal effect of each channel (with its bootstrap interval); ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = new_axes(ax)
        tab = self.table.sort_values("removal_effect")
        y = np.arange(len(tab))
        ax.barh(y, tab["removal_effect"], color="#4C72B0")
        if "conf_low" in tab:
            ax.errorbar(tab["removal_effect"], y,
                        xerr=[tab["removal_effect"] - tab["conf_low"], tab["conf_high"] - tab["removal_effect"]],
                        fmt="none", ecolor="black", capsize=3)
        ax.set_yticks(y, tab["channel"])
        ax.set_xlabel(t("去除效应", "removal effect", lang))
        ax.set_title(t(f"马尔可夫去除效应（{self.order} 阶）", f"Markov removal effects (order {self.order})", lang))
        return ax


def markov_attribution(
    journeys: pd.DataFrame,
    *,
    path_col: str = "path",
    conversions_col: str = "conversions",
    nulls_col: str = "nulls",
    value_col: str | None = None,
    sep: str = ">",
    order: int = 1,
    n_boot: int = 0,
    conf_level: float = 0.95,
    seed: int = 0,
) -> MarkovResult:
    """Attribute conversions by the removal effects of an absorbing Markov chain over channels.

    Parameters
    ----------
    journeys : DataFrame
        Aggregated path table (see :func:`build_journeys`).
    path_col, conversions_col, nulls_col : str
        Path (channels joined by ``sep``), conversions and null journeys per row.
    value_col : str, optional
        Conversion value to attribute as well.
    sep : str, default ">"
    order : int, default 1
        Order of the chain, 1 to 4; higher orders use states made of the last
        ``order`` channels (fewer at the start of a path).
    n_boot : int, default 0
        Bootstrap replicates over journeys for the intervals (0 = none).
    conf_level : float, default 0.95
    seed : int, default 0

    Returns
    -------
    MarkovResult
        ``.table``: ``channel, removal_effect, conversions, share`` (+
        ``value``), and with ``n_boot > 0`` also ``std_error, conf_low,
        conf_high`` for the removal effect and ``conversions_low,
        conversions_high`` for the attributed conversions (percentile
        intervals).

    Raises
    ------
    KosDataError
        Missing columns, negative counts, no conversions.
    KosParameterError
        ``order`` outside 1-4, bad ``n_boot`` / ``conf_level`` / ``seed``.

    See Also
    --------
    shapley_attribution, heuristic_attribution, compare_attribution

    Notes
    -----
    States are ``(start)``, the channels (or channel tuples), and the
    absorbing ``(conversion)`` and ``(null)``; transitions are counted over
    journeys (a path's count is its conversions plus nulls; its last state
    moves to conversion as often as it converted and to null as often as it
    did not) and normalised by row. The conversion probability from start is
    exact absorbing-chain algebra, ``x = (I - Q)^{-1} r`` (Kemeny & Snell
    1976), no simulation. Removal effect of channel ``c``:
    ``1 - P(conversion | c removed) / P(conversion)``, where removing ``c``
    sends every transition into a state containing ``c`` to ``(null)``;
    attributed conversions are total conversions × removal effect / Σ removal
    effects (Anderl, Becker, von Wangenheim & Schumann 2016, the convention
    of the ChannelAttribution package). The bootstrap resamples journeys
    (multinomially over the cells path × outcome) and recomputes everything.
    Paths are collapsed to unique channel sequences first, so the cost grows
    with the number of distinct paths, not journeys.

    Examples
    --------
    >>> import pandas as pd
    >>> j = pd.DataFrame({"path": ["a", "b", "a > b"], "conversions": [2, 1, 1], "nulls": [1, 0, 0]})
    >>> markov_attribution(j).table[["channel", "removal_effect", "conversions"]].round(4)
      channel  removal_effect  conversions
    0       a           0.75          2.4
    1       b           0.50          1.6
    """
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or not 1 <= order <= 4:
        raise KosParameterError(f"order={order!r} must be 1, 2, 3 or 4")
    _check_boot(n_boot, conf_level, seed)
    pt = parse_paths(journeys, path_col=path_col, conversions_col=conversions_col, nulls_col=nulls_col,
                     value_col=value_col, sep=sep)
    if pt.conversions.sum() <= 0:
        raise KosDataError(f"conversions_col={conversions_col!r} sums to 0; nothing to attribute")
    if order == 1:
        n_states = len(pt.channels) + 1

        def solve(c, n):
            return _order1_dense(pt, c, n)
    else:
        graph = _MarkovGraph(pt, order)
        n_states = graph.n_states
        solve = graph.solve
    p_conv, re = solve(pt.conversions, pt.nulls)
    total = pt.conversions.sum()
    share = re / np.nansum(re)
    table = pd.DataFrame({"channel": pt.channels, "removal_effect": re, "conversions": total * share, "share": share})
    if value_col is not None:
        table["value"] = pt.value.sum() * share
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        draws = np.empty((n_boot, len(pt.channels)))
        conv_draws = np.empty_like(draws)
        for b, (c, n) in enumerate(bootstrap_counts(pt, rng, n_boot)):
            _, re_b = solve(c, n)
            draws[b] = re_b
            conv_draws[b] = c.sum() * re_b / np.nansum(re_b)
        lo, hi = _percentiles(draws, conf_level)
        clo, chi = _percentiles(conv_draws, conf_level)
        table.insert(2, "std_error", np.nanstd(draws, axis=0, ddof=1))
        table.insert(3, "conf_low", lo)
        table.insert(4, "conf_high", hi)
        table.insert(6, "conversions_low", clo)
        table.insert(7, "conversions_high", chi)
    return MarkovResult(table=table, conf_level=conf_level, order=int(order), conversion_probability=p_conv,
                        n_states=n_states, n_boot=int(n_boot))


# --------------------------------------------------------------------------- Shapley


def _shapley_from_worth(v: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values of the game with worth ``v[mask]`` over ``n`` players."""
    from math import factorial

    masks = np.arange(1 << n)
    size = np.zeros(masks.size, dtype=np.int64)
    for j in range(n):
        size += (masks >> j) & 1
    wt = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.empty(n)
    for j in range(n):
        without = masks[(masks >> j) & 1 == 0]
        phi[j] = np.sum(wt[size[without]] * (v[without | (1 << j)] - v[without]))
    return phi


def _coalition_rates(pt: PathTable, conversions: np.ndarray, nulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(pt.channels)
    bits = np.bitwise_or.reduceat(np.left_shift(1, pt.codes), pt.offsets[:-1]) if pt.codes.size else np.zeros(0, int)
    conv = np.bincount(bits, conversions, minlength=1 << n)
    tot = np.bincount(bits, conversions + nulls, minlength=1 << n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(tot > 0, conv / tot, 0.0)
    return rate, bits


def _zeta(f: np.ndarray, n: int) -> np.ndarray:
    """Subset sums: ``out[S] = sum over T ⊆ S of f[T]``."""
    out = f.copy()
    masks = np.arange(1 << n)
    for j in range(n):
        has = (masks >> j) & 1 == 1
        out[has] += out[masks[has] ^ (1 << j)]
    return out


@dataclass(frozen=True, repr=False)
class ShapleyResult(Result):
    """Shapley-value attribution.

    Attributes
    ----------
    table : DataFrame
        ``channel, shapley_value, conversions, share`` (+ ``value``); with a
        bootstrap also ``conf_low, conf_high`` (of the attributed conversions).
    conf_level : float
    n_boot : int
    """

    n_boot: int = 0

    _display_names = {"channel": "channel", "shapley_value": "Shapley value", "conversions": "conversions",
                      "conf_low": "CI low", "conf_high": "CI high", "share": "share", "value": "value (CNY)"}

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Conversions attributed to each channel (with its bootstrap interval); ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = new_axes(ax)
        tab = self.table.sort_values("conversions")
        y = np.arange(len(tab))
        ax.barh(y, tab["conversions"], color="#55A868")
        if "conf_low" in tab:
            ax.errorbar(tab["conversions"], y, xerr=[tab["conversions"] - tab["conf_low"], tab["conf_high"] - tab["conversions"]],
                        fmt="none", ecolor="black", capsize=3)
        ax.set_yticks(y, tab["channel"])
        ax.set_xlabel(t("归因转化数", "attributed conversions", lang))
        ax.set_title(t("Shapley 值归因", "Shapley attribution", lang))
        return ax


def shapley_attribution(
    journeys: pd.DataFrame,
    *,
    path_col: str = "path",
    conversions_col: str = "conversions",
    nulls_col: str = "nulls",
    value_col: str | None = None,
    sep: str = ">",
    n_boot: int = 0,
    conf_level: float = 0.95,
    seed: int = 0,
) -> ShapleyResult:
    """Attribute conversions by exact Shapley values of channel coalitions.

    Parameters
    ----------
    journeys : DataFrame
        Aggregated path table (see :func:`build_journeys`).
    path_col, conversions_col, nulls_col, value_col, sep
        As in :func:`markov_attribution`.
    n_boot : int, default 0
        Bootstrap replicates over journeys (0 = no intervals).
    conf_level : float, default 0.95
    seed : int, default 0

    Returns
    -------
    ShapleyResult
        ``.table``: ``channel, shapley_value, conversions, share`` (+
        ``value``), with ``conf_low, conf_high`` for the conversions when
        ``n_boot > 0``.

    Raises
    ------
    KosDataError
        Missing columns, negative counts, no conversions.
    KosParameterError
        More than 15 channels (2^15 coalitions is the exact limit here).

    See Also
    --------
    markov_attribution, heuristic_attribution, compare_attribution

    Notes
    -----
    A journey's coalition is the set of distinct channels on its path. The
    coalition conversion rate ``p(T)`` is conversions / (conversions + nulls)
    of journeys whose channel set is exactly ``T``; the worth of a coalition
    is ``v(S) = Σ_{T ⊆ S} p(T)`` (Zhao, Mahboobi & Bagheri 2018, with rates as
    in Dalessandro et al. 2012). The Shapley value
    ``φ_j = Σ_{S ∌ j} |S|!(n-|S|-1)!/n! [v(S ∪ {j}) - v(S)]`` is computed
    exactly over all ``2^n`` coalitions; conversions are attributed in
    proportion, total × φ_j / Σ φ. Rare coalitions have noisy rates; the
    bootstrap interval shows it.
    """
    _check_boot(n_boot, conf_level, seed)
    pt = parse_paths(journeys, path_col=path_col, conversions_col=conversions_col, nulls_col=nulls_col,
                     value_col=value_col, sep=sep)
    n = len(pt.channels)
    if n > MAX_SHAPLEY_CHANNELS:
        raise KosParameterError(
            f"journeys has {n} channels; exact Shapley attribution supports at most {MAX_SHAPLEY_CHANNELS} "
            f"(group rare channels first). Channels: {pt.channels}"
        )
    if pt.conversions.sum() <= 0:
        raise KosDataError(f"conversions_col={conversions_col!r} sums to 0; nothing to attribute")

    def solve(c, nul):
        rate, _ = _coalition_rates(pt, c, nul)
        return _shapley_from_worth(_zeta(rate, n), n)

    phi = solve(pt.conversions, pt.nulls)
    share = phi / phi.sum()
    table = pd.DataFrame({"channel": pt.channels, "shapley_value": phi, "conversions": pt.conversions.sum() * share,
                          "share": share})
    if value_col is not None:
        table["value"] = pt.value.sum() * share
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        draws = np.empty((n_boot, n))
        for b, (c, nul) in enumerate(bootstrap_counts(pt, rng, n_boot)):
            ph = solve(c, nul)
            draws[b] = c.sum() * ph / ph.sum()
        lo, hi = _percentiles(draws, conf_level)
        table.insert(3, "conf_low", lo)
        table.insert(4, "conf_high", hi)
    return ShapleyResult(table=table, conf_level=conf_level, n_boot=int(n_boot))


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True, repr=False)
class AttributionComparison(Result):
    """Heuristic, Markov and Shapley attributions side by side.

    Attributes
    ----------
    table : DataFrame
        Long: ``channel, method, conversions, conf_low, conf_high, share``.
    conf_level : float
    n_boot : int
    """

    n_boot: int = 0

    _display_names = {"channel": "channel", "method": "method", "conversions": "conversions",
                      "conf_low": "CI low", "conf_high": "CI high", "share": "share"}

    def wide(self) -> pd.DataFrame:
        """Attributed conversions, one row per channel and one column per method."""
        return self.table.pivot(index="channel", columns="method", values="conversions")[list(dict.fromkeys(self.table["method"]))]

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Conversions attributed to each channel by each method, with intervals; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax, figsize=(9.0, 4.5))
        methods = list(dict.fromkeys(self.table["method"]))
        channels = list(dict.fromkeys(self.table.sort_values("conversions", ascending=False)["channel"]))
        width = 0.8 / len(methods)
        x = np.arange(len(channels))
        for i, m in enumerate(methods):
            tab = self.table[self.table["method"] == m].set_index("channel").reindex(channels)
            pos = x - 0.4 + width * (i + 0.5)
            ax.bar(pos, tab["conversions"], width, label=_METHOD_LABELS_ZH.get(m, m) if zh else m)
            ax.errorbar(pos, tab["conversions"], yerr=[tab["conversions"] - tab["conf_low"], tab["conf_high"] - tab["conversions"]],
                        fmt="none", ecolor="black", elinewidth=0.8, capsize=1.5)
        ax.set_xticks(x, channels, rotation=30, ha="right")
        ax.set_ylabel(t("归因转化数", "attributed conversions", lang))
        # outside the axes: with seven methods, a legend inside covers bars of some channel
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        pct = f"{self.conf_level:.0%}"
        ax.set_title(t(f"各方法的归因结果（{pct} 自助法区间）", f"Attribution by method ({pct} bootstrap intervals)", lang))
        return ax


def compare_attribution(
    journeys: pd.DataFrame,
    *,
    path_col: str = "path",
    conversions_col: str = "conversions",
    nulls_col: str = "nulls",
    sep: str = ">",
    markov_order: int = 1,
    half_life: float = 7,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
    n_boot: int = 200,
    conf_level: float = 0.95,
    seed: int = 0,
) -> AttributionComparison:
    """Attributed conversions per channel by all methods, with bootstrap intervals from the same resamples.

    Parameters
    ----------
    journeys : DataFrame
        Aggregated path table (see :func:`build_journeys`).
    path_col, conversions_col, nulls_col, sep
        As in :func:`markov_attribution`.
    markov_order : int, default 1
    half_life, position_weights
        As in :func:`heuristic_attribution`.
    n_boot : int, default 200
    conf_level : float, default 0.95
    seed : int, default 0

    Returns
    -------
    AttributionComparison
        Long ``.table``: ``channel, method, conversions, conf_low, conf_high,
        share`` with methods ``first_touch, last_touch, linear, time_decay,
        position_based, markov, shapley`` (Shapley only with at most 15
        channels).

    Notes
    -----
    Every method sees the same bootstrap resamples of journeys, so their
    intervals are comparable. Heuristic credits only depend on converting
    paths; Markov and Shapley also use the null journeys.
    """
    check_conf_level(conf_level)
    _check_position_weights(position_weights)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise KosParameterError(f"n_boot={n_boot!r} must be a whole number >= 2 for intervals (e.g. 200)")
    pt = parse_paths(journeys, path_col=path_col, conversions_col=conversions_col, nulls_col=nulls_col,
                     value_col=None, sep=sep)
    if pt.conversions.sum() <= 0:
        raise KosDataError(f"conversions_col={conversions_col!r} sums to 0; nothing to attribute")
    weights = _credit_matrices(pt, half_life=float(half_life), position_weights=tuple(map(float, position_weights)))
    if markov_order == 1:
        def msolve(c, n):
            return _order1_dense(pt, c, n)
    else:
        msolve = _MarkovGraph(pt, int(markov_order)).solve
    k = len(pt.channels)
    use_shapley = k <= MAX_SHAPLEY_CHANNELS

    def all_methods(c, n):
        out = heuristic_credit(pt, weights, c)
        _, re = msolve(c, n)
        out["markov"] = c.sum() * re / np.nansum(re)
        if use_shapley:
            rate, _ = _coalition_rates(pt, c, n)
            ph = _shapley_from_worth(_zeta(rate, k), k)
            out["shapley"] = c.sum() * ph / ph.sum()
        return out

    est = all_methods(pt.conversions, pt.nulls)
    methods = list(est)
    rng = np.random.default_rng(seed)
    draws = {m: np.empty((n_boot, k)) for m in methods}
    for b, (c, n) in enumerate(bootstrap_counts(pt, rng, n_boot)):
        for m, v in all_methods(c, n).items():
            draws[m][b] = v
    total = pt.conversions.sum()
    frames = []
    for m in methods:
        lo, hi = _percentiles(draws[m], conf_level)
        frames.append(pd.DataFrame({"channel": pt.channels, "method": m, "conversions": est[m], "conf_low": lo,
                                    "conf_high": hi, "share": est[m] / total}))
    return AttributionComparison(table=pd.concat(frames, ignore_index=True), conf_level=conf_level, n_boot=int(n_boot))
