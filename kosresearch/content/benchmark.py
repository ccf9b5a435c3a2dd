"""Fair advisor (KOS) benchmarking of a rate: empirical-Bayes shrinkage and funnel plots.

So that an advisor with 3 of 4 new group members speaking is not crowned over
one with 400 of 1,000: per-advisor rates are shrunk towards the pool by a
beta-binomial prior fitted to all advisors, and flagged only when credibly
above (or below) the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._shrinkage import BetaPrior, fit_beta_prior, funnel_limits, posterior_summary
from kosresearch._validation import check_conf_level, check_panel_unique, check_positive, require_columns
from kosresearch.content import _text as tx
from kosresearch.errors import KosDataError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from kosresearch.data.loader import Dataset

__all__ = ["kos_benchmark", "KosBenchmark", "group_activation"]

#: outer funnel limits (Spiegelhalter 2005 uses 95 % and 99.8 %)
_OUTER_LEVEL = 0.998


@dataclass(frozen=True)
class KosBenchmark(Result):
    """Per-unit rates with empirical-Bayes shrinkage, funnel limits and a "credibly above" flag.

    Attributes
    ----------
    table : DataFrame
        One row per unit, ordered by shrunk estimate (highest first):
        ``<unit_col>``, ``successes``, ``trials``, ``raw_rate``, ``estimate``
        (posterior mean), ``std_error`` (posterior SD), ``conf_low``,
        ``conf_high`` (equal-tailed posterior interval), ``prob_above``
        (posterior probability that the rate exceeds the pool mean),
        ``p_value`` (exact two-sided binomial test of the raw rate against
        the pooled rate, the test the funnel draws), ``funnel_low``,
        ``funnel_high`` (control limits at the unit's trials), ``above_pool``,
        ``below_pool`` (interval entirely above / below the pool mean),
        ``rank`` (1 = highest shrunk estimate).
    conf_level : float
    unit_col, successes_col, trials_col : str
    prior : BetaPrior
        The fitted ``Beta(α, β)`` prior; ``prior.mean`` is the pool mean.
    pooled_rate : float
        ``Σ successes / Σ trials`` (the funnel's centre line).
    """

    unit_col: str = "unit"
    successes_col: str = ""
    trials_col: str = ""
    prior: BetaPrior | None = field(default=None, repr=False)
    pooled_rate: float = float("nan")

    _display_names = {**Result._display_names, "raw_rate": "raw rate", "estimate": "shrunk rate",
                      "prob_above": "P(above pool)", "above_pool": "above pool", "below_pool": "below pool"}

    @property
    def flagged(self) -> pd.DataFrame:
        """Rows credibly above the pool."""
        return self.table[self.table["above_pool"]]

    def interpret(self, *, lang: str = "en") -> list[str]:
        """Sentences: how many units are credibly above / below the pool, naming the top ones."""
        tx.check_lang(lang)
        t = self.table
        up, down = t[t["above_pool"]], t[t["below_pool"]]
        pool = tx.fmt_pct(self.prior.mean, 1)
        pct = f"{100 * self.conf_level:g}%"
        n = len(t)
        if lang == "zh":
            out = [f"{n} 位导购中，{len(up)} 位明显高于整体水平 {pool}（{pct} 可信区间的下限高于整体），{len(down)} 位明显低于整体。"]
            for _, r in up.head(3).iterrows():
                out.append(f"{r[self.unit_col]}：{int(r['successes'])}/{int(r['trials'])}，收缩后 {tx.fmt_pct(r['estimate'])}"
                           f"（{tx.fmt_pct(r['conf_low'])}–{tx.fmt_pct(r['conf_high'])}）。")
            return out
        out = [f"Of {n} advisors, {len(up)} are credibly above the pool rate of {pool} (the lower end of their {pct} credible "
               f"interval lies above it) and {len(down)} credibly below."]
        for _, r in up.head(3).iterrows():
            out.append(f"{r[self.unit_col]}: {int(r['successes'])} of {int(r['trials'])}, shrunk estimate "
                       f"{tx.fmt_pct(r['estimate'])} ({tx.fmt_pct(r['conf_low'])}–{tx.fmt_pct(r['conf_high'])}).")
        return out

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Funnel plot: raw rate against trials with control limits around the pooled rate."""
        tx.check_lang(lang)
        ax = new_axes(ax, figsize=(7.0, 4.2))
        t = self.table[self.table["trials"] > 0]
        n_max = max(float(t["trials"].max()) if len(t) else 10.0, 10.0)
        grid = np.unique(np.round(np.geomspace(1, n_max * 1.05, 200)))
        p0 = self.pooled_rate
        for level, style in ((self.conf_level, "--"), (_OUTER_LEVEL, ":")):
            lo, hi = funnel_limits(p0, grid, conf_level=level)
            ax.plot(grid, lo, style, color="0.4", lw=1)
            ax.plot(grid, hi, style, color="0.4", lw=1, label=f"{level:.1%}".replace(".0%", "%"))
        ax.axhline(p0, color="0.2", lw=1)
        flag = t["above_pool"].to_numpy()
        low = t["below_pool"].to_numpy()
        other = ~flag & ~low
        ax.scatter(t["trials"][other], t["raw_rate"][other], s=18, color="0.6", alpha=0.8)
        lab_up = "明显高于整体" if lang == "zh" else "credibly above pool"
        lab_dn = "明显低于整体" if lang == "zh" else "credibly below pool"
        ax.scatter(t["trials"][flag], t["raw_rate"][flag], s=30, color="C2", label=lab_up)
        ax.scatter(t["trials"][low], t["raw_rate"][low], s=30, color="C3", label=lab_dn)
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        if lang == "zh":
            ax.set_xlabel(f"样本量（{self.trials_col}，对数刻度）")
            ax.set_ylabel("原始比例")
        else:
            ax.set_xlabel(f"trials ({self.trials_col}, log scale)")
            ax.set_ylabel("raw rate")
        ax.legend(loc="upper right", fontsize="small", frameon=False)
        return ax


def kos_benchmark(
    data: pd.DataFrame,
    *,
    successes_col: str,
    trials_col: str,
    unit_col: str,
    conf_level: float = 0.95,
) -> KosBenchmark:
    """Per-unit rates with empirical-Bayes beta-binomial shrinkage, funnel limits and flags.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (e.g. per advisor, from :func:`group_activation`);
        not modified.
    successes_col : str
        Successes per unit (e.g. new group members who spoke within 7 days).
    trials_col : str
        Trials per unit (e.g. new group members observed for 7 days).
    unit_col : str
        Unit identifier (e.g. ``"kos_id"``); each unit appears once.
    conf_level : float, default 0.95
        Level of the posterior intervals and of the inner funnel limits.

    Returns
    -------
    KosBenchmark
        ``.table`` (see the class), ``.prior``, ``.pooled_rate``,
        ``.flagged``, ``.interpret(lang=)``, ``.plot()`` (funnel plot).

    Raises
    ------
    KosDataError
        Missing or non-numeric columns, repeated units, negative counts,
        successes above trials, no unit with trials.
    KosParameterError
        Bad ``conf_level``.

    See Also
    --------
    group_activation : builds the per-advisor counts of new members who speak.

    Notes
    -----
    Each unit's rate ``θ_u`` is given a ``Beta(α, β)`` prior fitted by
    maximising the beta-binomial marginal likelihood over all units (Efron
    2010, *Large-Scale Inference*, ch. 1; Robinson 2017, *Introduction to
    Empirical Bayes*); the posterior is ``Beta(α + s_u, β + n_u − s_u)``
    (``kosresearch._shrinkage``). Small units are pulled strongly to the pool
    mean ``α/(α+β)``, large ones hardly at all. A unit is **credibly above
    the pool** when its equal-tailed posterior interval lies entirely above
    the pool mean (posterior probability above it ≥ ``(1 + conf_level)/2``).
    The funnel plot (Spiegelhalter 2005, *Stat. Med.* 24, 1185–1202) shows
    raw rates against trials with exact binomial limits around the pooled
    rate ``Σs/Σn`` at ``conf_level`` and 99.8 %. Units with zero trials keep
    the prior as posterior and are never flagged. The prior is fitted
    assuming units are exchangeable; a few outstanding units widen it, which
    shrinks everyone less — the flag stays conservative because it asks for
    the whole interval to clear the pool mean.
    """
    from scipy import stats

    check_conf_level(conf_level)
    require_columns(data, {"successes_col": successes_col, "trials_col": trials_col, "unit_col": unit_col},
                    numeric=["successes_col", "trials_col"])
    check_panel_unique(data, [unit_col])
    s = data[successes_col].to_numpy(dtype=float, na_value=np.nan)
    n = data[trials_col].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(s) | ~np.isfinite(n) | (s < 0) | (n < 0) | (s > n) | (s != np.round(s)) | (n != np.round(n))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise KosDataError(
            f"successes_col={successes_col!r} and trials_col={trials_col!r} must be whole numbers with "
            f"0 ≤ successes ≤ trials; {int(bad.sum())} rows are not (first: unit {data[unit_col].iloc[i]!r} with "
            f"{float(s[i])!r} of {float(n[i])!r})"
        )
    if not (n > 0).any():
        raise KosDataError(f"trials_col={trials_col!r} is 0 for every unit; there is nothing to benchmark")
    prior = fit_beta_prior(s, n)
    post = posterior_summary(s, n, prior, conf_level=conf_level)
    a = prior.alpha + s
    b = prior.beta + n - s
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    pooled = float(s.sum() / n.sum())
    f_lo, f_hi = funnel_limits(pooled, n, conf_level=conf_level)
    p_val = np.array([stats.binomtest(int(si), int(ni), pooled).pvalue if ni > 0 else np.nan for si, ni in zip(s, n)])
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)
    table = pd.DataFrame({
        unit_col: data[unit_col].to_numpy(),
        "successes": s.astype(int),
        "trials": n.astype(int),
        "raw_rate": raw,
        "estimate": post["estimate"],
        "std_error": sd,
        "conf_low": post["conf_low"],
        "conf_high": post["conf_high"],
        "prob_above": post["prob_above"],
        "p_value": p_val,
        "funnel_low": np.where(n > 0, f_lo, np.nan),
        "funnel_high": np.where(n > 0, f_hi, np.nan),
        "above_pool": (post["conf_low"] > prior.mean) & (n > 0),
        "below_pool": (post["conf_high"] < prior.mean) & (n > 0),
    })
    table = table.sort_values(["estimate", "trials"], ascending=[False, False], kind="mergesort").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return KosBenchmark(table, conf_level, unit_col=unit_col, successes_col=successes_col, trials_col=trials_col,
                        prior=prior, pooled_rate=pooled)


def group_activation(
    dataset: "Dataset",
    *,
    within_days: float = 7,
    as_of: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per advisor: new group members, and how many spoke within ``within_days`` of joining.

    Parameters
    ----------
    dataset : Dataset
        With tables ``groups`` and ``group_members``.
    within_days : float, default 7
        The activation window after joining.
    as_of : str or Timestamp, optional
        End of observation; default the latest timestamp in the dataset.
        Members who joined less than ``within_days`` before it are not yet
        observable and are left out of ``eligible``.

    Returns
    -------
    pandas.DataFrame
        One row per advisor with groups: ``region``, ``kos_id``, ``members``
        (all members), ``eligible`` (joined at least ``within_days`` before
        ``as_of``), ``spoke`` (eligible members whose first message came
        within ``within_days`` of joining), ``rate`` (``spoke / eligible``).

    Raises
    ------
    KosDataError
        A table is missing.

    Notes
    -----
    Aggregated in DuckDB. A member "speaks" when ``joined_at ≤ first_spoke_at
    < joined_at + within_days``; a first message before joining (data
    error) does not count. Feed the result to :func:`kos_benchmark` with
    ``successes_col="spoke", trials_col="eligible", unit_col="kos_id"``.
    """
    check_positive("within_days", within_days)
    dataset.require("groups", "group_members")
    end = pd.Timestamp(as_of) if as_of is not None else dataset.date_range[1]
    if pd.isna(end):
        raise KosDataError("the dataset has no timestamps; pass as_of=")
    seconds = float(within_days) * 86400.0
    cutoff = (end - pd.Timedelta(seconds=seconds)).to_pydatetime()
    out = dataset.sql(
        """
        SELECT g.region, g.kos_id,
               count(*) AS members,
               count(*) FILTER (WHERE m.joined_at <= $cutoff) AS eligible,
               count(*) FILTER (WHERE m.joined_at <= $cutoff AND m.first_spoke_at >= m.joined_at
                                AND m.first_spoke_at < m.joined_at + to_microseconds($micros)) AS spoke
        FROM group_members AS m JOIN groups AS g ON m.group_id = g.group_id
        GROUP BY g.region, g.kos_id
        ORDER BY g.region, g.kos_id
        """,
        {"cutoff": cutoff, "micros": int(round(seconds * 1e6))},
    )
    out = out.astype({"members": "int64", "eligible": "int64", "spoke": "int64"})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = out["spoke"] / out["eligible"].where(out["eligible"] > 0)
    return out
