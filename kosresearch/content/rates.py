"""Engagement rates per exposure and rate ratios from log-link count models.

* :func:`content_posts` — the content table with ``interactions`` (likes +
  comments + saves + shares) and per-impression rates.
* :func:`engagement_table` — interactions and leads per impression by group,
  with intervals that respect clustering by advisor.
* :func:`rate_ratios` — Poisson / negative-binomial (NB2) regression with an
  exposure offset; one rate ratio per coefficient, adjusted p-values.
* :func:`pairwise_rate_ratios` — every pair of levels of one factor.
* :func:`cross_rate_ratios` — a two-way table (e.g. format × topic) of cell
  rate ratios and interaction ratios, with a joint test of no interaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, critical_value, new_axes
from kosresearch._validation import check_choice, check_conf_level, require_columns
from kosresearch.content import _text as tx
from kosresearch.content._countreg import (
    CountFit,
    build_design,
    check_counts,
    fit_count_model,
    is_continuous,
)
from kosresearch.content.effects import adjust_pvalues, min_detectable_rate_ratio
from kosresearch.errors import KosDataError, KosParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from kosresearch.data.loader import Dataset

__all__ = [
    "content_posts",
    "engagement_table",
    "EngagementTable",
    "rate_ratios",
    "RateRatioResult",
    "RateRatioContrast",
    "pairwise_rate_ratios",
    "PairwiseRateRatios",
    "cross_rate_ratios",
    "CrossRateRatios",
]

Family = Literal["auto", "poisson", "negbin"]
FAMILIES = ("auto", "poisson", "negbin")
INTERACTION_PARTS = ("likes", "comments", "saves", "shares")
_RATE_COLUMNS = (
    "term", "level", "reference", "rate_ratio", "estimate", "std_error", "statistic",
    "conf_low", "conf_high", "p_value", "p_holm", "p_fdr_bh", "posts",
)


# --------------------------------------------------------------------------- inputs


def _is_dataset(obj: Any) -> bool:
    from kosresearch.data.loader import Dataset

    return isinstance(obj, Dataset)


def content_posts(content: "pd.DataFrame | Dataset") -> pd.DataFrame:
    """The content table, one row per post, with interaction counts and rates added.

    Parameters
    ----------
    content : pandas.DataFrame or Dataset
        The ``content`` table of the data contract (a Dataset is read with
        ``dataset.table("content")``). Not modified.

    Returns
    -------
    pandas.DataFrame
        All columns of ``content`` plus ``interactions`` (likes + comments +
        saves + shares), ``interaction_rate`` and ``lead_rate`` (per
        impression; missing when a post has no impressions).

    Raises
    ------
    KosDataError
        A required column (impressions, likes, comments, saves, shares, leads)
        is missing or not numeric.
    """
    if _is_dataset(content):
        frame = content.table("content")
    else:
        frame = content
    cols = {c: c for c in (*INTERACTION_PARTS, "leads", "impressions")}
    require_columns(frame, cols, numeric=list(cols), name="content")
    out = frame.copy()
    out["interactions"] = out[list(INTERACTION_PARTS)].sum(axis=1, min_count=len(INTERACTION_PARTS))
    imp = out["impressions"].astype(float).where(out["impressions"] > 0)
    out["interaction_rate"] = out["interactions"] / imp
    out["lead_rate"] = out["leads"] / imp
    return out


def _check_terms(terms: Any, name: str = "terms") -> list[str]:
    if isinstance(terms, str) or not isinstance(terms, Sequence):
        raise KosParameterError(f"{name}={terms!r} must be a list of column names, e.g. [{terms!r}]")
    terms = list(terms)
    dup = sorted({t for t in terms if terms.count(t) > 1})
    if dup:
        raise KosParameterError(f"{name}={terms!r} names {dup} more than once")
    return terms


# --------------------------------------------------------------------------- engagement table


@dataclass(frozen=True)
class EngagementTable(Result):
    """Interaction and lead rates per impression by group.

    Attributes
    ----------
    table : DataFrame
        One row per group and metric: the ``by`` columns, ``metric``
        (``"interaction_rate"`` or ``"lead_rate"``), ``posts``, ``kos``
        (advisors who posted), ``impressions``, ``count`` (interactions or
        leads), ``estimate`` (count per impression), ``std_error``,
        ``conf_low``, ``conf_high``.
    conf_level : float
    by : tuple of str
    """

    by: tuple = ()

    def summary(self, *, digits: int = 2) -> pd.DataFrame:
        """Wide display: posts, impressions, counts and rates per 1,000 impressions with intervals."""
        pct = f"{self.conf_level:.0%}"
        t = self.table
        keys = list(self.by)
        parts = []
        for metric, name in (("interaction_rate", "interactions"), ("lead_rate", "leads")):
            m = t[t["metric"] == metric].set_index(keys) if keys else t[t["metric"] == metric]
            parts.append(pd.DataFrame({
                name: m["count"],
                f"{name} per 1k impr.": (1000 * m["estimate"]).round(digits),
                f"{name} CI ({pct})": [
                    f"{1000 * lo:.{digits}f}–{1000 * hi:.{digits}f}" for lo, hi in zip(m["conf_low"], m["conf_high"])
                ],
            }, index=m.index))
        first = t[t["metric"] == "interaction_rate"]
        first = first.set_index(keys) if keys else first
        out = pd.concat([first[["posts", "kos", "impressions"]], *parts], axis=1)
        return out.reset_index() if keys else out.reset_index(drop=True)

    def plot(self, *, ax: "Axes | None" = None, metric: str = "interaction_rate", lang: str = "en") -> "Axes":
        """Bar chart of one metric per 1,000 impressions with interval whiskers."""
        check_choice("metric", metric, ("interaction_rate", "lead_rate"))
        tx.check_lang(lang)
        t = self.table[self.table["metric"] == metric].reset_index(drop=True)
        ax = new_axes(ax, figsize=(7.0, 0.45 * len(t) + 1.5))
        labels = [_group_label(self.by, row, lang) for _, row in t.iterrows()]
        y = np.arange(len(t))
        est = 1000 * t["estimate"].to_numpy()
        ax.barh(y, est, color="C0", alpha=0.75)
        ax.errorbar(est, y, xerr=[est - 1000 * t["conf_low"].to_numpy(), 1000 * t["conf_high"].to_numpy() - est],
                    fmt="none", ecolor="0.2", capsize=3)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        name = tx.metric_label(metric, lang)
        ax.set_xlabel(f"{name}（每千次曝光，{tx.ci_words(self.conf_level, lang)}）" if lang == "zh"
                      else f"{name} per 1,000 impressions ({tx.ci_words(self.conf_level, lang)})")
        return ax


def _group_label(by: tuple, row: pd.Series, lang: str) -> str:
    if not by:
        return "全部" if lang == "zh" else "all posts"
    if len(by) == 1:
        return tx.level_label(by[0], row[by[0]], lang)
    return tx.describe_pattern({b: row[b] for b in by}, lang)


def _ratio_interval(Y: np.ndarray, E: np.ndarray, Yc: list, Ec: list, conf_level: float):
    """Ratio estimator ``ΣY/ΣE`` with a cluster (advisor) linearisation variance, log-scale interval."""
    from scipy import stats

    z = critical_value(conf_level)
    a = 1.0 - conf_level
    est = Y / E
    se = np.full(Y.shape, np.nan)
    lo = np.full(Y.shape, np.nan)
    hi = np.full(Y.shape, np.nan)
    for i in range(Y.size):
        yc, ec = np.asarray(Yc[i], float), np.asarray(Ec[i], float)
        G = yc.size
        if Y[i] == 0 or G < 2:
            # exact Poisson (Garwood) interval: no clusters to estimate extra variation from
            lo[i] = stats.chi2.ppf(a / 2, 2 * Y[i]) / 2 / E[i] if Y[i] > 0 else 0.0
            hi[i] = stats.chi2.ppf(1 - a / 2, 2 * Y[i] + 2) / 2 / E[i]
            se[i] = np.sqrt(Y[i]) / E[i]
            continue
        v = G / (G - 1.0) * np.sum((yc - est[i] * ec) ** 2) / E[i] ** 2
        se[i] = np.sqrt(v)
        half = z * se[i] / est[i]
        lo[i], hi[i] = est[i] * np.exp(-half), est[i] * np.exp(half)
    return est, se, lo, hi


def engagement_table(
    content: "pd.DataFrame | Dataset",
    *,
    by: Sequence[str] | str = ("format",),
    conf_level: float = 0.95,
) -> EngagementTable:
    """Posts, impressions, interactions and leads, with rates per impression, by group.

    Parameters
    ----------
    content : pandas.DataFrame or Dataset
        The ``content`` table (columns ``kos_id``, ``impressions``, ``likes``,
        ``comments``, ``saves``, ``shares``, ``leads`` and the ``by``
        columns). With a Dataset the sums run in DuckDB. Not modified.
    by : sequence of str, default ("format",)
        Grouping columns (e.g. ``("format", "topic")``); ``()`` for one row.
    conf_level : float, default 0.95

    Returns
    -------
    EngagementTable
        ``.table`` columns: the ``by`` columns, ``metric``, ``posts``,
        ``kos``, ``impressions``, ``count``, ``estimate`` (per impression),
        ``std_error``, ``conf_low``, ``conf_high``.

    Raises
    ------
    KosDataError
        A column is missing or not numeric.

    See Also
    --------
    rate_ratios : rates compared in a model, separated from who posted.

    Notes
    -----
    A group's rate is the ratio estimator ``R = ΣY / ΣE`` (events over
    impressions). Posts of one advisor are not independent, so its variance
    is the cluster linearisation ``G/(G−1) Σ_g (Y_g − R E_g)² / (ΣE)²`` over
    the ``G`` advisors who posted in the group (Cochran 1977, *Sampling
    Techniques*, §6.11), and the interval is symmetric on the log scale.
    With fewer than two advisors, or no events, the exact Poisson (Garwood
    1936) interval is used instead, which ignores overdispersion.

    Examples
    --------
    >>> import kosresearch as kr
    >>> from kosresearch.paths import sample_data_dir
    >>> ds = kr.open_dataset(sample_data_dir(), regions=["east"])
    >>> et = engagement_table(ds, by=["format"])
    >>> list(et.table["format"].unique())
    ['article', 'image_text', 'live', 'short_video']
    """
    check_conf_level(conf_level)
    by = (by,) if isinstance(by, str) else tuple(by)
    if _is_dataset(content):
        from kosresearch.data._source import quote_ident
        from kosresearch.data.contract import get_table

        known = get_table("content").column_names
        unknown = [b for b in by if b not in known]
        if unknown:
            raise KosDataError(f"by={list(by)!r}: {unknown} are not columns of table 'content'; its columns are {list(known)}")
        keys = ", ".join(quote_ident(b) for b in by)
        sel = f"{keys}, " if by else ""
        agg = content.sql(
            f"SELECT {sel}kos_id, count(*) AS posts, sum(impressions)::DOUBLE AS impressions, "
            f"sum(likes + comments + saves + shares)::DOUBLE AS interactions, sum(leads)::DOUBLE AS leads "
            f"FROM content GROUP BY ALL"
        )
    else:
        cols = {f"by[{i}]": b for i, b in enumerate(by)}
        cols.update({c: c for c in ("kos_id", "impressions", *INTERACTION_PARTS, "leads")})
        require_columns(content, cols, numeric=["impressions", *INTERACTION_PARTS, "leads"], name="content")
        frame = content[list(dict.fromkeys([*by, "kos_id", "impressions", *INTERACTION_PARTS, "leads"]))].copy()
        frame["interactions"] = frame[list(INTERACTION_PARTS)].sum(axis=1)
        agg = (
            frame.groupby([*by, "kos_id"], dropna=False, sort=False)
            .agg(posts=("impressions", "size"), impressions=("impressions", "sum"),
                 interactions=("interactions", "sum"), leads=("leads", "sum"))
            .reset_index()
        )
    agg = agg.astype({"impressions": float, "interactions": float, "leads": float, "posts": int})
    if by:
        groups = agg.groupby(list(by), dropna=False, sort=True)
        items = list(groups)
    else:
        items = [((), agg)]
    rows = []
    for metric, col in (("interaction_rate", "interactions"), ("lead_rate", "leads")):
        Y = np.array([g[col].sum() for _, g in items], dtype=float)
        E = np.array([g["impressions"].sum() for _, g in items], dtype=float)
        est, se, lo, hi = _ratio_interval(
            Y, E, [g[col].to_numpy() for _, g in items], [g["impressions"].to_numpy() for _, g in items], conf_level
        )
        for i, (key, g) in enumerate(items):
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(by, key)), "metric": metric, "posts": int(g["posts"].sum()),
                         "kos": int(g["kos_id"].nunique()), "impressions": E[i], "count": Y[i],
                         "estimate": est[i], "std_error": se[i], "conf_low": lo[i], "conf_high": hi[i]})
    table = pd.DataFrame(rows, columns=[*by, "metric", "posts", "kos", "impressions", "count", "estimate",
                                        "std_error", "conf_low", "conf_high"])
    return EngagementTable(table, conf_level, by=by)


# --------------------------------------------------------------------------- rate ratios: shared pieces


@dataclass(frozen=True)
class _Prepared:
    y: np.ndarray
    exposure: np.ndarray | None
    cluster: np.ndarray | None


def _prepare(data, *, count_col, exposure_col, cluster_col, columns: Mapping[str, str]) -> _Prepared:
    cols = {"count_col": count_col, "exposure_col": exposure_col, "cluster_col": cluster_col, **columns}
    require_columns(data, cols, numeric=["count_col", "exposure_col"])
    if len(data) == 0:
        raise KosDataError("data has no rows; a rate ratio needs posts")
    y = data[count_col].to_numpy(dtype=float, na_value=np.nan)
    E = None if exposure_col is None else data[exposure_col].to_numpy(dtype=float, na_value=np.nan)
    check_counts(y, E, count_col=count_col, exposure_col=exposure_col)
    cluster = None
    if cluster_col is not None:
        codes, _ = pd.factorize(data[cluster_col], use_na_sentinel=True)
        if (codes < 0).any():
            raise KosDataError(f"cluster_col={cluster_col!r} has {int((codes < 0).sum())} missing values")
        cluster = codes.astype(np.int64)
    return _Prepared(y, E, cluster)


def _check_reference(data, terms: list[str], reference: Mapping | None) -> dict:
    if reference is None:
        return {}
    if not isinstance(reference, Mapping):
        raise KosParameterError(f"reference={reference!r} must be a dict term -> level, e.g. {{'format': 'image_text'}}")
    out = {}
    for term, level in reference.items():
        if term not in terms:
            raise KosParameterError(f"reference names term {term!r}, which is not in terms={terms!r}")
        if is_continuous(data[term]):
            raise KosParameterError(f"reference[{term!r}]: {term!r} is numeric and enters as continuous; it has no reference level")
        present = pd.unique(data[term])
        if level not in present:
            shown = sorted(map(str, present))[:20]
            raise KosParameterError(f"reference[{term!r}]={level!r} is not a level of {term!r}; levels: {shown}")
        out[term] = level
    return out


def _check_zero_levels(design, y: np.ndarray, count_col: str) -> None:
    """A categorical level without any event has rate ratio 0 (or ∞): refuse, naming it."""
    Yp = np.bincount(design.pattern, weights=y, minlength=design.X.shape[0])
    total = Yp.sum()
    if total == 0:
        raise KosDataError(f"count_col={count_col!r} is 0 in every row; there is no rate to compare")
    for info in design.terms:
        if info.kind != "categorical":
            continue
        cols = [j for j, (t, lvl) in enumerate(design.coef_terms) if t == info.name and lvl is not None]
        counts = {design.coef_terms[j][1]: float(design.X[:, j] @ Yp) for j in cols}
        counts[info.reference] = total - sum(counts.values())
        empty = [lvl for lvl, c in counts.items() if c == 0]
        if empty:
            raise KosDataError(
                f"term {info.name!r}: level(s) {empty!r} have no {count_col} at all, so their rate ratio is not "
                "estimable; drop or merge those levels"
            )


def _posts_per_coef(design) -> np.ndarray:
    counts = np.bincount(design.pattern, minlength=design.X.shape[0]).astype(float)
    return design.X.T @ counts


def _rate_rows(terms, levels, refs, logrr, se, posts, conf_level: float) -> pd.DataFrame:
    from scipy import stats

    z = critical_value(conf_level)
    logrr = np.asarray(logrr, float)
    se = np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = logrr / se
    p = 2.0 * stats.norm.sf(np.abs(stat))
    rr = np.exp(logrr)
    return pd.DataFrame({
        "term": list(terms), "level": list(levels), "reference": list(refs), "rate_ratio": rr, "estimate": rr,
        "std_error": se, "statistic": stat, "conf_low": np.exp(logrr - z * se), "conf_high": np.exp(logrr + z * se),
        "p_value": p, "p_holm": adjust_pvalues(p, method="holm"), "p_fdr_bh": adjust_pvalues(p, method="fdr_bh"),
        "posts": np.asarray(posts, float),
    }, columns=list(_RATE_COLUMNS))


def _rr_sentence(term: str, level: str, ref: str, row: Mapping, count_col: str, conf_level: float, lang: str,
                 *, p_name: str = "p_holm") -> str:
    rr, lo, hi = float(row["rate_ratio"]), float(row["conf_low"]), float(row["conf_high"])
    p = float(row[p_name]) if p_name in row else float(row["p_value"])
    metric = tx.metric_label(count_col, lang)
    ci = f"{tx.ci_words(conf_level, lang)} {tx.fmt_ci(lo, hi)}"
    covers = lo <= 1.0 <= hi
    adj = {"p_holm": ("Holm 校正 ", "Holm-adjusted "), "p_fdr_bh": ("BH 校正 ", "BH-adjusted "),
           "p_value": ("", "")}[p_name if p_name in ("p_holm", "p_fdr_bh") else "p_value"]
    if level == "":  # continuous term
        if lang == "zh":
            text = f"{term} 每增加 1 个单位，{metric}变为原来的 {tx.fmt_ratio(rr)} 倍（{ci}，{adj[0]}{tx.fmt_p(p)}）"
            return text + ("；区间包含 1，影响不显著。" if covers else "。")
        text = f"Each additional unit of {term} multiplies the {metric} by {tx.fmt_ratio(rr)} ({ci}; {adj[1]}{tx.fmt_p(p)})"
        return text + ("; the interval includes 1, so no effect is shown." if covers else ".")
    a = tx.level_label(term, level, lang)
    b = tx.level_label(term, ref, lang)
    if lang == "zh":
        text = f"{a}的{metric}是{b}的 {tx.fmt_ratio(rr)} 倍（{ci}，{adj[0]}{tx.fmt_p(p)}）"
        return text + ("；区间包含 1，差异不显著。" if covers else "。")
    text = f"{a[0].upper()}{a[1:]} get {tx.fmt_ratio(rr)}× the {metric} of {b} ({ci}; {adj[1]}{tx.fmt_p(p)})"
    return text + ("; the interval includes 1, so no difference is shown." if covers else ".")


def _forest(ax, labels: list[str], est, lo, hi, filled, *, xlabel: str, legend: tuple[str, str] | None = None):
    y = np.arange(len(labels))
    est, lo, hi = map(lambda v: np.asarray(v, float), (est, lo, hi))
    filled = np.asarray(filled, bool)
    ax.axvline(1.0, color="0.5", lw=1.0, zorder=0)
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="none", ecolor="C0", capsize=3, zorder=1)
    ax.scatter(est[filled], y[filled], color="C0", zorder=2, label=legend[0] if legend else None)
    ax.scatter(est[~filled], y[~filled], facecolor="white", edgecolor="C0", zorder=2,
               label=legend[1] if legend else None)
    ax.set_xscale("log")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    _log_ticks(ax.xaxis, np.nanmin(lo) if len(lo) else 1.0, np.nanmax(hi) if len(hi) else 1.0)
    if legend and len(labels):
        ax.legend(loc="best", fontsize="small", frameon=False)
    return ax


_NICE_TICKS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 50.0, 100.0)


def _log_ticks(axis, lo: float, hi: float) -> None:
    """Readable ticks (0.5, 1, 2, 3, …) on a log-scaled axis spanning ``[lo, hi]`` (always including 1)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    lo = min(float(lo), 1.0) if np.isfinite(lo) else 1.0
    hi = max(float(hi), 1.0) if np.isfinite(hi) else 1.0
    ticks = [t for t in _NICE_TICKS if lo / 1.15 <= t <= hi * 1.15]
    if len(ticks) > 8:
        ticks = [t for t in ticks if t in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)]
    axis.set_major_locator(FixedLocator(ticks or [1.0]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())


def _coef_label(term: str, level: str, ref: str, lang: str) -> str:
    if level == "":
        return term
    short = lambda lv: (tx.LEVEL_LABELS.get(term, {}).get(lv, (None,) * 4)[2 if lang == "zh" else 1] or f"{term}={lv}")  # noqa: E731
    return f"{short(level)} vs {short(ref)}"


# --------------------------------------------------------------------------- rate_ratios


@dataclass(frozen=True)
class RateRatioContrast(Result):
    """Rate ratio of one covariate pattern against another (e.g. how-to video vs promotion image).

    Attributes
    ----------
    table : DataFrame
        One row: ``contrast``, ``rate_ratio``, ``estimate``, ``std_error``
        (of the log rate ratio), ``statistic``, ``conf_low``, ``conf_high``, ``p_value``.
    conf_level : float
    levels, against : dict
        The two patterns (terms not named are at their reference level).
    count_col : str
    """

    levels: dict = field(default_factory=dict)
    against: dict = field(default_factory=dict)
    count_col: str = ""

    def interpret(self, *, lang: str = "en") -> list[str]:
        """One sentence: "how-to short videos get 4.8× (95 % CI 4.1–5.6) the interaction rate of promotion image-text posts"."""
        tx.check_lang(lang)
        row = self.table.iloc[0]
        a = tx.describe_pattern(self.levels, lang)
        b = tx.describe_pattern(self.against, lang)
        metric = tx.metric_label(self.count_col, lang)
        rr, lo, hi = float(row["rate_ratio"]), float(row["conf_low"]), float(row["conf_high"])
        ci = f"{tx.ci_words(self.conf_level, lang)} {tx.fmt_ci(lo, hi)}"
        covers = lo <= 1.0 <= hi
        if lang == "zh":
            text = f"{a}的{metric}是{b}的 {tx.fmt_ratio(rr)} 倍（{ci}）"
            return [text + ("；区间包含 1，差异不显著。" if covers else "。")]
        text = f"{a[0].upper()}{a[1:]} get {tx.fmt_ratio(rr)}× ({ci}) the {metric} of {b}"
        return [text + ("; the interval includes 1, so no difference is shown." if covers else ".")]

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """The contrast as a one-row forest plot."""
        ax = new_axes(ax, figsize=(6.0, 1.6))
        row = self.table.iloc[0]
        label = f"{tx.describe_pattern(self.levels, lang)} vs {tx.describe_pattern(self.against, lang)}"
        return _forest(ax, [label], [row["rate_ratio"]], [row["conf_low"]], [row["conf_high"]],
                       [row["p_value"] < 1 - self.conf_level],
                       xlabel=f"{tx.metric_label(self.count_col, lang)} ratio ({tx.ci_words(self.conf_level, lang)})")


@dataclass(frozen=True)
class RateRatioResult(Result):
    """Rate ratios of a log-link count model with exposure offset.

    Attributes
    ----------
    table : DataFrame
        One row per coefficient (none for reference levels or the intercept):
        ``term``, ``level`` (empty for a continuous term), ``reference``
        (empty for a continuous term), ``rate_ratio`` (= ``estimate``),
        ``std_error`` (of the log rate ratio), ``statistic`` (z),
        ``conf_low``, ``conf_high``, ``p_value``, ``p_holm``, ``p_fdr_bh``
        (adjusted over all rows), ``posts`` (rows at that level).
    conf_level : float
    family : str
        ``"poisson"`` or ``"negbin"`` (the family used, after ``"auto"``).
    alpha : float
        NB2 dispersion (``Var = μ + αμ²``); 0 for Poisson.
    alpha_std_error : float
        Its standard error (delta method; same covariance type as the table).
    log_likelihood : float
        The full log-likelihood, constants included (equals statsmodels' ``llf``).
    n_obs : int
    n_clusters : int or None
    count_col, exposure_col, cluster_col : str or None
    se_type : str
        ``"model"`` or ``"cluster"``.
    reference : dict
        Reference level of every categorical term.
    params : Series
        Log-scale coefficients including ``(Intercept)``.
    cov : DataFrame
        Their covariance (the type in ``se_type``).
    cov_model : DataFrame
        The model-based covariance (for design effects).
    overdispersion_test : dict
        Cameron–Trivedi test of Poisson vs NB2: ``statistic``, ``p_value``.
    converged : bool
    level_stats : DataFrame
        ``term, level, posts, exposure, count`` per categorical level
        (including reference levels), for power calculations.
    """

    family: str = "poisson"
    alpha: float = 0.0
    alpha_std_error: float = 0.0
    log_likelihood: float = float("nan")
    n_obs: int = 0
    n_clusters: int | None = None
    count_col: str = ""
    exposure_col: str | None = None
    cluster_col: str | None = None
    se_type: str = "model"
    reference: dict = field(default_factory=dict)
    params: pd.Series = field(default_factory=pd.Series, repr=False)
    cov: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    cov_model: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    overdispersion_test: dict = field(default_factory=dict)
    converged: bool = True
    level_stats: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    _display_names = {**Result._display_names, "rate_ratio": "rate ratio", "p_holm": "p (Holm)",
                      "p_fdr_bh": "p (BH)", "level": "level", "reference": "vs"}

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """Term, level, reference, rate ratio with interval and p-values, rounded."""
        cols = ["term", "level", "reference", "rate_ratio", "conf_low", "conf_high", "p_value", "p_holm",
                "p_fdr_bh", "posts"]
        return _summarise(self.table[cols], self._display_names, self.conf_level, digits)

    def interpret(self, *, lang: str = "en") -> list[str]:
        """One sentence per row, e.g. "Short videos get 2.41× the interaction rate of image-text posts (95 % CI …)"."""
        tx.check_lang(lang)
        return [
            _rr_sentence(r["term"], r["level"], r["reference"], r, self.count_col, self.conf_level, lang)
            for _, r in self.table.iterrows()
        ]

    def contrast(self, levels: Mapping[str, Any], against: Mapping[str, Any] | None = None) -> RateRatioContrast:
        """Rate ratio of posts at ``levels`` against posts at ``against`` (default: every reference level).

        Parameters
        ----------
        levels : dict
            Term → level (categorical) or value (continuous), e.g.
            ``{"format": "short_video", "topic": "usage_tips"}``. Terms not
            named are at their reference level (continuous: 0).
        against : dict, optional
            The comparison pattern, same form (default: all references).

        Returns
        -------
        RateRatioContrast
            ``exp(cᵀβ)`` with ``c`` the difference of the two design rows,
            standard error ``√(cᵀ V c)`` from the model's covariance.
        """
        against = dict(against or {})
        c = self._design_row(levels) - self._design_row(against)
        names = list(self.params.index)
        b = self.params.to_numpy()
        V = self.cov.loc[names, names].to_numpy()
        est = float(c @ b)
        se = float(np.sqrt(max(c @ V @ c, 0.0)))
        ref_full = {t: lvl for t, lvl in self.reference.items()}
        shown_levels = {**{t: ref_full[t] for t in against if t in ref_full and t not in levels}, **dict(levels)}
        shown_against = {**{t: ref_full[t] for t in levels if t in ref_full and t not in against}, **against}
        row = _rate_rows(["contrast"], [""], [""], [est], [se], [np.nan], self.conf_level)
        table = row[["rate_ratio", "estimate", "std_error", "statistic", "conf_low", "conf_high", "p_value"]].copy()
        table.insert(0, "contrast", f"{_pattern_text(shown_levels)} vs {_pattern_text(shown_against)}")
        return RateRatioContrast(table, self.conf_level, levels=shown_levels, against=shown_against,
                                 count_col=self.count_col)

    def _design_row(self, levels: Mapping[str, Any]) -> np.ndarray:
        names = list(self.params.index)
        x = np.zeros(len(names))
        for term, value in levels.items():
            if term in self.reference:
                if str(value) == str(self.reference[term]):
                    continue
                name = f"{term}[{value}]"
                if name not in names:
                    known = [n[len(term) + 1:-1] for n in names if n.startswith(f"{term}[")] + [str(self.reference[term])]
                    raise KosParameterError(f"levels[{term!r}]={value!r} is not a level of {term!r}; levels: {sorted(known)}")
                x[names.index(name)] = 1.0
            elif term in names:
                x[names.index(term)] = float(value)
            else:
                raise KosParameterError(f"levels names {term!r}, which is not a term of this model")
        return x

    def detectable_effects(self, *, power: float = 0.8) -> pd.DataFrame:
        """Minimum detectable rate ratios of every categorical row, given its posts.

        For each level against its reference: posts in both, the reference
        level's raw rate, the mean exposure per post, the model's dispersion
        ``alpha`` and a design effect ``max(1, (se / se_model)²)`` (how much
        clustering inflated the variance) go into
        :func:`~kosresearch.content.min_detectable_rate_ratio`.

        Returns
        -------
        DataFrame
            ``term, level, reference, posts, reference_posts, baseline_rate,
            exposure, design_effect, min_detectable_increase,
            min_detectable_decrease, significant`` (Holm-adjusted p below
            ``1 − conf_level``).
        """
        rows = []
        st = self.level_stats.set_index(["term", "level"])
        se_model = np.sqrt(np.diag(self.cov_model.to_numpy()))
        names = list(self.params.index)
        for _, r in self.table.iterrows():
            if r["level"] == "":
                continue
            a = st.loc[(r["term"], r["level"])]
            b = st.loc[(r["term"], r["reference"])]
            j = names.index(f"{r['term']}[{r['level']}]")
            deff = max(1.0, (float(r["std_error"]) / se_model[j]) ** 2) if se_model[j] > 0 else 1.0
            base = float(b["count"] / b["exposure"])
            expo = float((a["exposure"] + b["exposure"]) / (a["posts"] + b["posts"]))
            kw = dict(baseline_rate=base, exposure=expo, dispersion=float(self.alpha), n_reference=float(b["posts"]),
                      power=power, conf_level=self.conf_level, design_effect=deff)
            rows.append({
                "term": r["term"], "level": r["level"], "reference": r["reference"], "posts": int(a["posts"]),
                "reference_posts": int(b["posts"]), "baseline_rate": base, "exposure": expo, "design_effect": deff,
                "min_detectable_increase": min_detectable_rate_ratio(float(a["posts"]), **kw),
                "min_detectable_decrease": min_detectable_rate_ratio(float(a["posts"]), direction="decrease", **kw),
                "significant": bool(r["p_holm"] < 1 - self.conf_level),
            })
        return pd.DataFrame(rows, columns=["term", "level", "reference", "posts", "reference_posts", "baseline_rate",
                                           "exposure", "design_effect", "min_detectable_increase",
                                           "min_detectable_decrease", "significant"])

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Forest plot of the rate ratios (log scale); filled markers are Holm-significant."""
        tx.check_lang(lang)
        t = self.table
        ax = new_axes(ax, figsize=(7.0, 0.38 * len(t) + 1.4))
        labels = [_coef_label(r["term"], r["level"], r["reference"], lang) for _, r in t.iterrows()]
        sig = t["p_holm"].to_numpy() < 1 - self.conf_level
        legend = (("Holm 校正后显著", "不显著") if lang == "zh" else ("significant after Holm", "not significant"))
        xlabel = (f"{tx.metric_label(self.count_col, lang)}之比（{tx.ci_words(self.conf_level, lang)}，对数刻度）"
                  if lang == "zh" else
                  f"{tx.metric_label(self.count_col, lang)} ratio ({tx.ci_words(self.conf_level, lang)}, log scale)")
        return _forest(ax, labels, t["rate_ratio"], t["conf_low"], t["conf_high"], sig, xlabel=xlabel, legend=legend)


def _summarise(table: pd.DataFrame, names: Mapping[str, str], conf_level: float, digits: int) -> pd.DataFrame:
    out = table.copy()
    numeric = out.select_dtypes("number").columns
    out[numeric] = out[numeric].round(digits)
    pct = f"{conf_level:.0%}"
    names = {k: (f"{v} ({pct})" if k in ("conf_low", "conf_high") else v) for k, v in names.items() if k in out.columns}
    return out.rename(columns=names)


def _pattern_text(levels: Mapping[str, Any]) -> str:
    return ", ".join(f"{t}={v}" for t, v in levels.items()) or "(reference)"


def _fit(data, *, count_col, exposure_col, terms, reference, cluster_col, family):
    prep = _prepare(data, count_col=count_col, exposure_col=exposure_col, cluster_col=cluster_col,
                    columns={f"terms[{i}]": t for i, t in enumerate(terms)})
    reference = _check_reference(data, terms, reference)
    design = build_design(data, terms, reference)
    _check_zero_levels(design, prep.y, count_col)
    fit, test = fit_count_model(prep.y, prep.exposure, design, family=family, cluster=prep.cluster)
    return prep, design, fit, test


def _level_stats(design, y: np.ndarray, exposure: np.ndarray | None) -> pd.DataFrame:
    P = design.X.shape[0]
    posts = np.bincount(design.pattern, minlength=P).astype(float)
    Yp = np.bincount(design.pattern, weights=y, minlength=P)
    Ep = posts if exposure is None else np.bincount(design.pattern, weights=exposure, minlength=P)
    rows = []
    for info in design.terms:
        if info.kind != "categorical":
            continue
        cols = {design.coef_terms[j][1]: j for j in range(design.k) if design.coef_terms[j][0] == info.name}
        ref_mask = np.ones(P, bool)
        for j in cols.values():
            ref_mask &= design.X[:, j] == 0
        for level in info.levels:
            mask = ref_mask if level == info.reference else design.X[:, cols[level]] == 1
            rows.append({"term": info.name, "level": str(level), "posts": posts[mask].sum(),
                         "exposure": Ep[mask].sum(), "count": Yp[mask].sum()})
    return pd.DataFrame(rows, columns=["term", "level", "posts", "exposure", "count"])


def rate_ratios(
    data: pd.DataFrame,
    *,
    count_col: str,
    exposure_col: str | None = None,
    terms: Sequence[str],
    reference: Mapping[str, Any] | None = None,
    cluster_col: str | None = None,
    family: Family = "auto",
    conf_level: float = 0.95,
) -> RateRatioResult:
    """Rate ratios from a log-link count model with offset ``log(exposure)``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit of observation (e.g. per post, from
        :func:`content_posts`); not modified.
    count_col : str
        Event counts (non-negative whole numbers), e.g. ``"interactions"``.
    exposure_col : str, optional
        Exposure (positive), e.g. ``"impressions"``; rates are per unit of
        it. Without it every row has exposure 1.
    terms : sequence of str
        Explanatory columns. Numeric columns enter as continuous (rate ratio
        per unit); others (strings, booleans, categories) as categorical,
        dummy-coded against a reference level.
    reference : dict, optional
        Term → reference level; default the first level in sorted order.
    cluster_col : str, optional
        Cluster-robust standard errors by this column (for content: the
        advisor, ``"kos_id"``, so that one prolific advisor does not pass for
        a format effect). Default: model-based standard errors.
    family : {"auto", "poisson", "negbin"}, default "auto"
        ``"negbin"`` is NB2 with the dispersion estimated by maximum
        likelihood; ``"auto"`` uses it when the Cameron–Trivedi test rejects
        Poisson at the 5 % level, else Poisson.
    conf_level : float, default 0.95

    Returns
    -------
    RateRatioResult
        ``.table`` with ``term, level, reference, rate_ratio, estimate,
        std_error, statistic, conf_low, conf_high, p_value, p_holm, p_fdr_bh,
        posts``; ``.family``, ``.alpha``, ``.log_likelihood`` and more (see
        the class). ``.interpret(lang=)`` gives one sentence per row,
        ``.contrast(...)`` combined patterns, ``.detectable_effects()`` the
        power view, ``.plot()`` a forest plot.

    Raises
    ------
    KosDataError
        Missing or non-numeric columns, negative / fractional counts,
        non-positive exposure, missing term values, a level without any
        event, collinear terms, fewer than 2 clusters.
    KosParameterError
        Bad ``terms``, ``reference``, ``family`` or ``conf_level``.

    See Also
    --------
    pairwise_rate_ratios, cross_rate_ratios, engagement_table

    Notes
    -----
    Model: ``log E[Y_i] = log(exposure_i) + x_iᵀβ``; ``exp(β_j)`` is the rate
    ratio of coefficient ``j`` with the other terms held fixed. Poisson
    (quasi-)likelihood estimates are consistent whenever the mean is right;
    NB2 (``Var = μ + αμ²``; Cameron & Trivedi 2013, *Regression Analysis of
    Count Data*, §3.3) is efficient under overdispersion. Rows are grouped
    by covariate pattern; the Poisson fit runs on the pattern sums (the
    model is collapsible), NB2 on the rows with derivatives summed per
    pattern.

    Standard errors. Model-based: the inverse observed information; for
    NB2 the ``β`` block of the inverse joint Hessian of ``(β, α)``, as
    statsmodels' ``NegativeBinomial`` (``loglike_method="nb2"``) reports.
    Cluster-robust: the sandwich ``H⁻¹ (Σ_g s_g s_gᵀ) H⁻¹`` with the
    per-cluster scores (including the score of ``α`` for NB2) and the
    small-sample factor ``G/(G−1) · (N−1)/(N−K)`` — statsmodels'
    ``cov_type="cluster"`` default (Cameron & Miller 2015, *J. Human
    Resources* 50, 317–372). Intervals and p-values are Wald (normal), on
    the log scale. ``log_likelihood`` is the full log-likelihood including
    ``−log y!`` and the NB normalising terms, so it equals statsmodels'
    ``llf`` on the same data. ``p_holm`` and ``p_fdr_bh`` adjust over all
    rows of the table (Holm 1979; Benjamini & Hochberg 1995).

    Examples
    --------
    >>> import kosresearch as kr
    >>> from kosresearch.paths import sample_data_dir
    >>> posts = content_posts(kr.open_dataset(sample_data_dir(), regions=["east"]))
    >>> rr = rate_ratios(posts, count_col="interactions", exposure_col="impressions",
    ...                  terms=["format", "topic", "platform"], cluster_col="kos_id",
    ...                  reference={"format": "image_text", "topic": "promotion", "platform": "wechat_moments"})
    >>> rr.family
    'negbin'
    >>> list(rr.table["level"][:3])  # format levels against image_text
    ['article', 'live', 'short_video']
    """
    check_choice("family", family, FAMILIES)
    check_conf_level(conf_level)
    terms = _check_terms(terms)
    if not terms:
        raise KosParameterError("terms=[] must name at least one column")
    clash = [t for t in terms if t in (count_col, exposure_col, cluster_col)]
    if clash:
        raise KosParameterError(f"terms={terms!r} must not include the count, exposure or cluster column {clash}")
    prep, design, fit, test = _fit(data, count_col=count_col, exposure_col=exposure_col, terms=terms,
                                   reference=reference, cluster_col=cluster_col, family=family)
    return _build_result(fit, test, design, prep, conf_level, count_col, exposure_col, cluster_col)


def _build_result(fit: CountFit, test, design, prep, conf_level, count_col, exposure_col, cluster_col) -> RateRatioResult:
    se = fit.std_errors
    posts = _posts_per_coef(design)
    keep = list(range(1, design.k))
    refs_by_term = {i.name: i.reference for i in design.terms if i.kind == "categorical"}
    terms_, levels_, refs_ = [], [], []
    for j in keep:
        t, lvl = design.coef_terms[j]
        terms_.append(t)
        levels_.append("" if lvl is None else str(lvl))
        refs_.append("" if lvl is None else str(refs_by_term[t]))
    table = _rate_rows(terms_, levels_, refs_, fit.params[keep], se[keep], posts[keep], conf_level)
    names = list(design.names)
    return RateRatioResult(
        table, conf_level, family=fit.family, alpha=fit.alpha, alpha_std_error=fit.alpha_std_error,
        log_likelihood=fit.log_likelihood, n_obs=fit.n_obs, n_clusters=fit.n_clusters, count_col=count_col,
        exposure_col=exposure_col, cluster_col=cluster_col, se_type="cluster" if cluster_col else "model",
        reference={t: str(r) for t, r in refs_by_term.items()},
        params=pd.Series(fit.params, index=names), cov=pd.DataFrame(fit.cov, index=names, columns=names),
        cov_model=pd.DataFrame(fit.cov_model, index=names, columns=names), overdispersion_test=dict(test),
        converged=fit.converged, level_stats=_level_stats(design, prep.y, prep.exposure),
    )


# --------------------------------------------------------------------------- pairwise


@dataclass(frozen=True)
class PairwiseRateRatios(Result):
    """Rate ratios of every pair of levels of one factor.

    Attributes
    ----------
    table : DataFrame
        One row per pair: ``term`` (the factor), ``level`` (the level with
        the higher estimated rate), ``reference`` (the other one),
        ``rate_ratio`` (≥ 1, = ``estimate``), ``std_error`` (log scale),
        ``statistic``, ``conf_low``, ``conf_high``, ``p_value``, ``p_holm``,
        ``p_fdr_bh`` (adjusted over the pairs), ``posts`` (rows at ``level``).
    conf_level : float
    factor_col, count_col : str
    model : RateRatioResult
        The fitted model the pairs come from.
    """

    factor_col: str = ""
    count_col: str = ""
    model: RateRatioResult | None = field(default=None, repr=False)

    _display_names = RateRatioResult._display_names

    def interpret(self, *, lang: str = "en") -> list[str]:
        """One sentence per pair, with its Holm-adjusted p-value."""
        tx.check_lang(lang)
        return [_rr_sentence(r["term"], r["level"], r["reference"], r, self.count_col, self.conf_level, lang)
                for _, r in self.table.iterrows()]

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Forest plot of the pairs; filled markers are Holm-significant."""
        tx.check_lang(lang)
        t = self.table
        ax = new_axes(ax, figsize=(7.0, 0.38 * len(t) + 1.4))
        labels = [_coef_label(r["term"], r["level"], r["reference"], lang) for _, r in t.iterrows()]
        sig = t["p_holm"].to_numpy() < 1 - self.conf_level
        legend = (("Holm 校正后显著", "不显著") if lang == "zh" else ("significant after Holm", "not significant"))
        xlabel = (f"{tx.metric_label(self.count_col, lang)}之比（{tx.ci_words(self.conf_level, lang)}）"
                  if lang == "zh" else f"{tx.metric_label(self.count_col, lang)} ratio ({tx.ci_words(self.conf_level, lang)})")
        return _forest(ax, labels, t["rate_ratio"], t["conf_low"], t["conf_high"], sig, xlabel=xlabel, legend=legend)


def pairwise_rate_ratios(
    data: pd.DataFrame,
    *,
    count_col: str,
    exposure_col: str | None,
    factor_col: str,
    cluster_col: str | None = None,
    terms: Sequence[str] = (),
    family: Family = "auto",
    conf_level: float = 0.95,
) -> PairwiseRateRatios:
    """Rate ratios for all pairs of levels of one factor, with Holm and BH adjustment.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per post; not modified.
    count_col, exposure_col, cluster_col, family, conf_level
        As in :func:`rate_ratios`.
    factor_col : str
        The categorical column whose levels are compared (e.g. ``"format"``).
    terms : sequence of str, default ()
        Further terms to adjust for (e.g. ``["topic", "platform"]``).

    Returns
    -------
    PairwiseRateRatios
        ``.table`` has one row per unordered pair, oriented so that the
        rate ratio is at least 1 (``level`` is the higher-rate level).

    Raises
    ------
    KosDataError, KosParameterError
        As :func:`rate_ratios`; also when ``factor_col`` is numeric or has
        fewer than 2 levels.

    Notes
    -----
    One model is fitted (``factor_col`` plus ``terms``); the log rate ratio
    of levels ``a`` and ``b`` is ``β_a − β_b`` with variance
    ``V_aa + V_bb − 2V_ab`` (``β = 0`` for the reference level), using the
    model's (optionally cluster-robust) covariance. p-values are adjusted
    over the ``L(L−1)/2`` pairs; the intervals are not (they are per-pair
    Wald intervals).
    """
    check_choice("family", family, FAMILIES)
    check_conf_level(conf_level)
    terms = _check_terms(terms)
    require_columns(data, {"factor_col": factor_col})
    if factor_col in terms:
        raise KosParameterError(f"terms={terms!r} must not repeat factor_col={factor_col!r}")
    if is_continuous(data[factor_col]):
        raise KosParameterError(f"factor_col={factor_col!r} is numeric; pairwise comparisons need a categorical column")
    prep, design, fit, test = _fit(data, count_col=count_col, exposure_col=exposure_col, terms=[factor_col, *terms],
                                   reference=None, cluster_col=cluster_col, family=family)
    model = _build_result(fit, test, design, prep, conf_level, count_col, exposure_col, cluster_col)
    info = design.terms[0]
    if len(info.levels) < 2:
        raise KosDataError(f"factor_col={factor_col!r} has {len(info.levels)} level; pairs need at least 2")
    names = design.names
    idx = {lvl: (names.index(f"{factor_col}[{lvl}]") if lvl != info.reference else None) for lvl in info.levels}
    beta, V = fit.params, fit.cov
    posts = {str(r["level"]): r["posts"] for _, r in model.level_stats.iterrows() if r["term"] == factor_col}
    rows_t, rows_l, rows_r, est, se, npost = [], [], [], [], [], []
    for a, b in itertools.combinations(info.levels, 2):
        c = np.zeros(len(names))
        if idx[a] is not None:
            c[idx[a]] += 1.0
        if idx[b] is not None:
            c[idx[b]] -= 1.0
        d = float(c @ beta)
        s = float(np.sqrt(max(c @ V @ c, 0.0)))
        hi_, lo_ = (a, b) if d >= 0 else (b, a)
        rows_t.append(factor_col)
        rows_l.append(str(hi_))
        rows_r.append(str(lo_))
        est.append(abs(d))
        se.append(s)
        npost.append(posts[str(hi_)])
    table = _rate_rows(rows_t, rows_l, rows_r, est, se, npost, conf_level)
    table = table.sort_values("rate_ratio", ascending=False, kind="mergesort").reset_index(drop=True)
    return PairwiseRateRatios(table, conf_level, factor_col=factor_col, count_col=count_col, model=model)


# --------------------------------------------------------------------------- two-way table


@dataclass(frozen=True)
class CrossRateRatios(Result):
    """Cell rate ratios of a two-way layout (e.g. format × topic) and their interaction.

    Attributes
    ----------
    table : DataFrame
        One row per cell: ``<row_col>``, ``<col_col>``, ``posts``,
        ``count``, ``exposure``, ``estimable``, ``rate_ratio`` (cell vs the
        reference cell, = ``estimate``), ``std_error``, ``conf_low``,
        ``conf_high``, ``p_value``, ``p_holm``, ``p_fdr_bh``,
        ``interaction_ratio`` (cell rate ratio over the product of its row
        and column main rate ratios), ``interaction_low``,
        ``interaction_high``, ``interaction_p``. The reference cell has rate
        ratio 1 and no interval; cells without posts or events are not
        estimable (missing values).
    conf_level : float
    row_col, col_col, count_col : str
    reference : dict
        The reference cell ``{row_col: level, col_col: level}``.
    interaction_test : dict
        Joint Wald test that every interaction ratio is 1: ``statistic``
        (χ²), ``df``, ``p_value``.
    family : str
    alpha : float
    """

    row_col: str = ""
    col_col: str = ""
    count_col: str = ""
    reference: dict = field(default_factory=dict)
    interaction_test: dict = field(default_factory=dict)
    family: str = "poisson"
    alpha: float = 0.0

    def interpret(self, *, lang: str = "en") -> list[str]:
        """Two sentences: the best cell against the reference cell, and the interaction test."""
        tx.check_lang(lang)
        t = self.table[self.table["estimable"] & self.table["std_error"].notna()]
        out = []
        if len(t):
            best = t.loc[t["rate_ratio"].idxmax()]
            levels = {self.row_col: best[self.row_col], self.col_col: best[self.col_col]}
            c = RateRatioContrast(pd.DataFrame([best]), self.conf_level, levels=levels, against=dict(self.reference),
                                  count_col=self.count_col)
            out += c.interpret(lang=lang)
        it = self.interaction_test
        if it and np.isfinite(it.get("statistic", np.nan)):
            sig = it["p_value"] < 1 - self.conf_level
            stat = f"χ² = {it['statistic']:.1f}, df = {it['df']}, {tx.fmt_p(it['p_value'])}"
            if lang == "zh":
                out.append(f"{self.row_col} × {self.col_col} 交互作用{'显著' if sig else '不显著'}（{stat}）："
                           + ("不同组合的效果不能简单相乘。" if sig else "各主效应可近似相乘。"))
            else:
                out.append(f"The {self.row_col} × {self.col_col} interaction is {'' if sig else 'not '}significant ({stat}): "
                           + ("cell effects are not simply the product of the main effects."
                              if sig else "the main effects roughly multiply."))
        return out

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Heatmap of the cell rate ratios (log colour scale) with their intervals."""
        import matplotlib.colors as mcolors

        tx.check_lang(lang)
        t = self.table
        rows = list(dict.fromkeys(t[self.row_col]))
        cols = list(dict.fromkeys(t[self.col_col]))
        M = np.full((len(rows), len(cols)), np.nan)
        ann = [["" for _ in cols] for _ in rows]
        for _, r in t.iterrows():
            i, j = rows.index(r[self.row_col]), cols.index(r[self.col_col])
            if r["estimable"]:
                M[i, j] = r["rate_ratio"]
                ann[i][j] = tx.fmt_ratio(r["rate_ratio"]) + (
                    f"\n({tx.fmt_ci(r['conf_low'], r['conf_high'])})" if np.isfinite(r["conf_low"]) else "\n(ref.)")
        ax = new_axes(ax, figsize=(1.5 * len(cols) + 2.5, 0.8 * len(rows) + 1.5))
        finite = M[np.isfinite(M)]
        span = float(np.max(np.abs(np.log(finite)))) if finite.size else 1.0
        span = max(span, 0.1)
        norm = mcolors.LogNorm(vmin=np.exp(-span), vmax=np.exp(span))
        im = ax.imshow(np.ma.masked_invalid(M), cmap="RdBu_r", norm=norm, aspect="auto")
        ax.grid(False)
        for i in range(len(rows)):
            for j in range(len(cols)):
                dark = np.isfinite(M[i, j]) and abs(np.log(M[i, j])) > 0.6 * span
                ax.text(j, i, ann[i][j], ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
        short = lambda term, lv: (tx.LEVEL_LABELS.get(term, {}).get(str(lv), (None,) * 4)[2 if lang == "zh" else 1] or str(lv))  # noqa: E731
        ax.set_xticks(range(len(cols)), [short(self.col_col, c) for c in cols], rotation=30, ha="right")
        ax.set_yticks(range(len(rows)), [short(self.row_col, r) for r in rows])
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.8)
        _log_ticks(cb.ax.yaxis, np.exp(-span), np.exp(span))
        cb.set_label(f"{tx.metric_label(self.count_col, lang)}之比" if lang == "zh"
                     else f"{tx.metric_label(self.count_col, lang)} ratio")
        return ax


def cross_rate_ratios(
    data: pd.DataFrame,
    *,
    count_col: str,
    exposure_col: str | None = None,
    row_col: str,
    col_col: str,
    reference: Mapping[str, Any] | None = None,
    cluster_col: str | None = None,
    family: Family = "auto",
    conf_level: float = 0.95,
) -> CrossRateRatios:
    """Two-way table of rate ratios (e.g. format × topic) with interaction ratios and a joint test.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per post; not modified.
    count_col, exposure_col, cluster_col, family, conf_level
        As in :func:`rate_ratios`.
    row_col, col_col : str
        The two categorical columns crossed.
    reference : dict, optional
        Reference levels ``{row_col: level, col_col: level}``; default the
        first level of each in sorted order.

    Returns
    -------
    CrossRateRatios
        ``.table`` one row per cell; ``.interaction_test`` the joint Wald
        test; ``.plot()`` a heatmap.

    Raises
    ------
    KosDataError, KosParameterError
        As :func:`rate_ratios`; also when the reference cell has no posts or
        no events.

    Notes
    -----
    The model has one parameter per estimable cell (a saturated two-way
    layout): ``log E[Y] = log(exposure) + β_0 + β_{rc}``, ``β = 0`` for the
    reference cell ``(r0, c0)``. Cell rate ratios are ``exp(β_rc)``; the
    interaction ratio of cell ``(r, c)`` is ``exp(β_rc − β_{r c0} − β_{r0 c})``
    — how much more (or less) the combination yields than the product of its
    row and column effects. The joint test of "no interaction" is the Wald
    χ² of all interaction contrasts whose cells are estimable (df = their
    number, or the rank of their covariance), using the model's
    (cluster-robust, if requested) covariance. Cells with posts but no
    events are left out of the fit and reported as not estimable.
    """
    from scipy import stats

    check_choice("family", family, FAMILIES)
    check_conf_level(conf_level)
    require_columns(data, {"row_col": row_col, "col_col": col_col, "count_col": count_col,
                           "exposure_col": exposure_col, "cluster_col": cluster_col},
                    numeric=["count_col", "exposure_col"])
    if row_col == col_col:
        raise KosParameterError(f"row_col and col_col are both {row_col!r}; cross two different columns")
    for arg, col in (("row_col", row_col), ("col_col", col_col)):
        if is_continuous(data[col]):
            raise KosParameterError(f"{arg}={col!r} is numeric; a two-way table needs categorical columns")
        if data[col].isna().any():
            raise KosDataError(f"{arg}={col!r} has {int(data[col].isna().sum())} missing values")
    reference = dict(reference or {})
    for k in reference:
        if k not in (row_col, col_col):
            raise KosParameterError(f"reference names {k!r}; use row_col={row_col!r} and col_col={col_col!r}")
    from kosresearch.content._countreg import _sorted_levels

    row_levels = _sorted_levels(pd.unique(data[row_col]))
    col_levels = _sorted_levels(pd.unique(data[col_col]))
    r0 = reference.get(row_col, row_levels[0])
    c0 = reference.get(col_col, col_levels[0])
    for arg, lv, levels in ((row_col, r0, row_levels), (col_col, c0, col_levels)):
        if lv not in levels:
            raise KosParameterError(f"reference[{arg!r}]={lv!r} is not a level of {arg!r}; levels: {[str(v) for v in levels]}")
    y_all = data[count_col].to_numpy(dtype=float, na_value=np.nan)
    E_all = None if exposure_col is None else data[exposure_col].to_numpy(dtype=float, na_value=np.nan)
    check_counts(y_all, E_all, count_col=count_col, exposure_col=exposure_col)
    # cells and their totals
    ri = pd.Categorical(data[row_col].to_numpy(), categories=row_levels).codes.astype(np.int64)
    ci = pd.Categorical(data[col_col].to_numpy(), categories=col_levels).codes.astype(np.int64)
    cell = ri * len(col_levels) + ci
    ncell = len(row_levels) * len(col_levels)
    posts = np.bincount(cell, minlength=ncell)
    counts = np.bincount(cell, weights=y_all, minlength=ncell)
    expo = np.bincount(cell, weights=(np.ones_like(y_all) if E_all is None else E_all), minlength=ncell)
    ref_cell = row_levels.index(r0) * len(col_levels) + col_levels.index(c0)
    if counts[ref_cell] == 0:
        raise KosDataError(
            f"the reference cell ({row_col}={r0!r}, {col_col}={c0!r}) has {int(posts[ref_cell])} posts and no "
            f"{count_col}; choose another reference"
        )
    estimable = counts > 0
    keep = estimable[cell]
    cell_names = np.array([f"{r}\x1f{c}" for r in row_levels for c in col_levels], dtype=object)
    sub = pd.DataFrame({"_cell": cell_names[cell[keep]], "_y": y_all[keep]})
    if E_all is not None:
        sub["_e"] = E_all[keep]
    if cluster_col is not None:
        sub["_g"] = data[cluster_col].to_numpy()[keep]
    model = rate_ratios(sub, count_col="_y", exposure_col="_e" if E_all is not None else None, terms=["_cell"],
                        reference={"_cell": cell_names[ref_cell]}, cluster_col="_g" if cluster_col else None,
                        family=family, conf_level=conf_level)
    names = list(model.params.index)
    beta = model.params.to_numpy()
    V = model.cov.to_numpy()

    def coef(r, c):
        k = r * len(col_levels) + c
        if k == ref_cell:
            return np.zeros(len(names))
        name = f"_cell[{cell_names[k]}]"
        if name not in names:
            return None
        v = np.zeros(len(names))
        v[names.index(name)] = 1.0
        return v

    rr_rows = model.table.set_index("level")
    z = critical_value(conf_level)
    out = []
    inter_vecs = []
    r0i, c0i = row_levels.index(r0), col_levels.index(c0)
    for r, rl in enumerate(row_levels):
        for c, cl in enumerate(col_levels):
            k = r * len(col_levels) + c
            row = {row_col: rl, col_col: cl, "posts": int(posts[k]), "count": counts[k], "exposure": expo[k],
                   "estimable": bool(estimable[k])}
            if k == ref_cell:
                row.update(rate_ratio=1.0, estimate=1.0, std_error=np.nan, conf_low=np.nan, conf_high=np.nan,
                           p_value=np.nan)
            elif estimable[k]:
                m = rr_rows.loc[cell_names[k]]
                row.update(rate_ratio=m["rate_ratio"], estimate=m["rate_ratio"], std_error=m["std_error"],
                           conf_low=m["conf_low"], conf_high=m["conf_high"], p_value=m["p_value"])
            else:
                row.update(rate_ratio=np.nan, estimate=np.nan, std_error=np.nan, conf_low=np.nan, conf_high=np.nan,
                           p_value=np.nan)
            row.update(interaction_ratio=np.nan, interaction_low=np.nan, interaction_high=np.nan, interaction_p=np.nan)
            if r != r0i and c != c0i:
                a, b, d = coef(r, c), coef(r, c0i), coef(r0i, c)
                if a is not None and b is not None and d is not None:
                    v = a - b - d
                    est = float(v @ beta)
                    se = float(np.sqrt(max(v @ V @ v, 0.0)))
                    row.update(interaction_ratio=np.exp(est), interaction_low=np.exp(est - z * se),
                               interaction_high=np.exp(est + z * se),
                               interaction_p=float(2 * stats.norm.sf(abs(est / se))) if se > 0 else np.nan)
                    inter_vecs.append(v)
            out.append(row)
    table = pd.DataFrame(out)
    table["p_holm"] = adjust_pvalues(table["p_value"].to_numpy(), method="holm")
    table["p_fdr_bh"] = adjust_pvalues(table["p_value"].to_numpy(), method="fdr_bh")
    table = table[[row_col, col_col, "posts", "count", "exposure", "estimable", "rate_ratio", "estimate", "std_error",
                   "conf_low", "conf_high", "p_value", "p_holm", "p_fdr_bh", "interaction_ratio", "interaction_low",
                   "interaction_high", "interaction_p"]]
    test = {"statistic": np.nan, "df": 0, "p_value": np.nan}
    if inter_vecs:
        C = np.vstack(inter_vecs)
        ce = C @ beta
        CV = C @ V @ C.T
        w, U = np.linalg.eigh(CV)
        ok = w > w.max() * 1e-10
        stat = float(np.sum((U[:, ok].T @ ce) ** 2 / w[ok]))
        dfree = int(ok.sum())
        test = {"statistic": stat, "df": dfree, "p_value": float(stats.chi2.sf(stat, dfree))}
    return CrossRateRatios(table, conf_level, row_col=row_col, col_col=col_col, count_col=count_col,
                           reference={row_col: r0, col_col: c0}, interaction_test=test, family=model.family,
                           alpha=model.alpha)
