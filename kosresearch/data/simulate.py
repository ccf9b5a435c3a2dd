"""Planted-truth simulator: a complete KOS-programme dataset and the truth behind it.

``simulate(scenario, seed=...)`` returns every table of the data contract,
internally consistent (foreign keys hold, timestamps ordered, amounts in CNY),
together with the parameters it planted, so that each estimator of the
package can be tested by recovering them.

Design (what is planted where)
------------------------------
Regions are generated independently from ``SeedSequence([seed, region_index])``,
so a dataset written region by region (``simulate_to_disk``) is identical to
the in-memory one and memory stays bounded for the ``large`` preset.

* **Purchases.** Each customer's first purchase is the acquisition. Repeat
  purchases follow BG/NBD (Fader, Hardie & Lee 2005) in weeks: ``λ ~
  Gamma(r, α)``, ``p ~ Beta(a, b)``; repeat values follow Gamma-Gamma
  (Fader, Hardie & Lee 2005b): ``ν ~ Gamma(q, γ)``, value ``~ Gamma(p, ν)``.
  ``λ`` is coupled to the customer's latent tier path by a Gaussian copula
  (normal scores within each acquisition month) that leaves its distribution
  exactly Gamma(r, α), so core customers buy more often.
* **Latent tiers.** A monthly Markov chain over core / potential / mass /
  churned (absorbing) with a known matrix per region. It drives the
  relationship (messages, group activity, referrals, browsing journeys);
  ``churned`` ends the relationship with the KOS, not necessarily buying.
* **Programme roll-out.** Stores adopt the KOS programme in cohorts (one
  region may launch all at once); treated stores get extra sales with a known
  expected size per store-week ``att_max × cohort multiplier × ramp(e)``.
  Nothing else differs systematically between treated and untreated stores,
  so the planted ATT is exactly that layer.
* **Layers on top of the base purchase process** (each can be switched off):
  programme sales, promotion-invitation spend (invitations chosen on
  observable behaviour only), and repurchase after feedback (a proportional
  hazards model in which loop closure has a known hazard ratio). BG/NBD and
  Gamma-Gamma hold exactly when these layers are off (``Scenario.base_only()``);
  with them on, they hold for all orders not produced by the layers.
* **Content.** Interactions and leads are negative binomial (NB2) with known
  log rate effects of format, topic and platform, a normal KOS random effect
  and an exposure offset (impressions); strategy changes multiply the
  interaction rate of the KOS who made them.
* **Journeys.** Touchpoint paths are walks of a known first-order chain over
  the touchpoint channels with absorbing conversion and null states; the
  exact Markov removal effects of that chain are stored. Converting walks
  end at an order, null walks are placed where no order follows within the
  lookback window, and every walk is separated from the customer's other
  touchpoints and orders by more than ``journey_gap_days``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kosresearch._markov import conversion_probability, removal_effects
from kosresearch.data.contract import TABLE_NAMES, TABLES, VOCABULARIES
from kosresearch.errors import KosParameterError

__all__ = [
    "Scenario",
    "SimulatedData",
    "PRESETS",
    "simulate",
    "simulate_to_disk",
    "TIER_STATES",
    "JOURNEY_CHANNELS",
    "planted_channel_matrix",
]

TIER_STATES: tuple[str, ...] = ("core", "potential", "mass", "churned")
JOURNEY_CHANNELS: tuple[str, ...] = VOCABULARIES["touchpoint_channel"]

#: base monthly tier transition matrix (rows from, columns to; TIER_STATES order)
_BASE_TIER_MATRIX = np.array(
    [
        [0.86, 0.10, 0.02, 0.02],
        [0.07, 0.80, 0.10, 0.03],
        [0.01, 0.05, 0.89, 0.05],
        [0.00, 0.00, 0.00, 1.00],
    ]
)
#: hand-set matrices of the four sample regions (variations around the base)
_REGION_TIER_MATRICES = {
    "east": _BASE_TIER_MATRIX,
    "south": np.array(
        [[0.88, 0.08, 0.02, 0.02], [0.08, 0.79, 0.10, 0.03], [0.015, 0.055, 0.88, 0.05], [0, 0, 0, 1.0]]
    ),
    "north": np.array(
        [[0.83, 0.12, 0.03, 0.02], [0.06, 0.79, 0.11, 0.04], [0.01, 0.04, 0.89, 0.06], [0, 0, 0, 1.0]]
    ),
    "west": np.array(
        [[0.85, 0.10, 0.03, 0.02], [0.09, 0.77, 0.11, 0.03], [0.02, 0.06, 0.87, 0.05], [0, 0, 0, 1.0]]
    ),
}


def planted_channel_matrix() -> tuple[list[str], np.ndarray]:
    """The planted first-order journey chain.

    Returns the state names ``["(start)", *channels, "(conversion)", "(null)"]``
    and the row-stochastic transition matrix over them. ``(start)`` has no
    incoming transitions; conversion and null are absorbing.
    """
    ch = list(JOURNEY_CHANNELS)
    states = ["(start)", *ch, "(conversion)", "(null)"]
    idx = {s: i for i, s in enumerate(states)}
    rows = {
        "(start)": {"paid_ad": 0.20, "xiaohongshu": 0.22, "douyin": 0.17, "wechat_private": 0.12,
                    "wechat_group": 0.06, "live_stream": 0.06, "koc_post": 0.10, "store_visit": 0.07},
        "paid_ad": {"paid_ad": 0.08, "xiaohongshu": 0.12, "douyin": 0.10, "wechat_private": 0.12,
                    "store_visit": 0.08, "(conversion)": 0.10, "(null)": 0.40},
        "xiaohongshu": {"xiaohongshu": 0.12, "douyin": 0.05, "wechat_private": 0.20, "koc_post": 0.06,
                        "store_visit": 0.07, "(conversion)": 0.20, "(null)": 0.30},
        "douyin": {"douyin": 0.12, "xiaohongshu": 0.05, "wechat_private": 0.15, "live_stream": 0.10,
                   "(conversion)": 0.18, "(null)": 0.40},
        "wechat_private": {"wechat_private": 0.18, "wechat_group": 0.08, "store_visit": 0.12,
                           "live_stream": 0.04, "(conversion)": 0.38, "(null)": 0.20},
        "wechat_group": {"wechat_group": 0.15, "wechat_private": 0.15, "live_stream": 0.08,
                         "(conversion)": 0.27, "(null)": 0.35},
        "live_stream": {"live_stream": 0.10, "wechat_private": 0.12, "wechat_group": 0.05,
                        "(conversion)": 0.35, "(null)": 0.38},
        "koc_post": {"koc_post": 0.08, "xiaohongshu": 0.12, "wechat_private": 0.10,
                     "(conversion)": 0.22, "(null)": 0.48},
        "store_visit": {"wechat_private": 0.10, "(conversion)": 0.55, "(null)": 0.35},
    }
    P = np.zeros((len(states), len(states)))
    for src, row in rows.items():
        for dst, prob in row.items():
            P[idx[src], idx[dst]] = prob
    P[idx["(conversion)"], idx["(conversion)"]] = 1.0
    P[idx["(null)"], idx["(null)"]] = 1.0
    P /= P.sum(axis=1, keepdims=True)
    return states, P


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class Scenario:
    """Everything the simulator plants, with defaults of the ``sample`` preset.

    Attributes
    ----------
    name : str
        Preset name or ``"custom"``.
    regions : tuple of str
        Region slugs (ASCII).
    stores_per_region : int
        Stores in each region.
    kos_per_store : float
        Mean advisors per store (at least one each).
    customers : int
        Customers over all regions.
    start : str
        First day of the data window, a Monday (week 1 starts here).
    weeks : int
        Length of the window in weeks.
    cohort_weeks : tuple of int
        Week indices (1-based) at which roll-out cohorts start.
    region_rollout : mapping of str to int
        Regions whose stores all adopt at once, with the week.
    never_treated_share : float
        Share of the other regions' stores that never adopt.
    late_opening_stores : int
        Stores (in the last region not launched at once) that open inside
        the window; they never adopt and a balanced panel must drop them.
    att_max : float
        Extra expected sales per store-week (CNY) at full ramp, cohort
        multiplier 1. ``0`` switches the programme layer off.
    ramp_weeks : int
        Weeks until the programme effect is at full size.
    cohort_multipliers : tuple of float or None
        Effect multiplier per cohort in order of start week (default
        decreasing from 1.25: early adopters gain most).
    bgnbd : tuple
        ``(r, alpha, a, b)`` with time in weeks.
    gamma_gamma : tuple
        ``(p, q, gamma)`` of repeat-purchase values in CNY.
    copula_rho : tuple
        Gaussian-copula correlation of the tier path with ``(λ, 1/ν)``. The
        second is 0 by default: Gamma-Gamma assumes spend per order independent
        of purchase frequency, and the planted data honour that assumption.
    kos_bound_share : float
        Share of customers bound to an advisor.
    promotion_effect : float
        Extra expected spend (CNY) in the 90 days after a promotion
        invitation. ``0`` switches it off; ``None`` switches invitations off.
    feedback_share : float
        Share of advisor-bound customers who give (one) feedback.
    closure_hazard_ratio : float
        Hazard ratio of loop closure on the 90-day repurchase.
    strategy_rate_ratio : float
        Multiplier of the interaction rate after a strategy change.
    strategy_share : float
        Share of posting advisors who make a strategy change.
    journey_conversion_share : float
        Share of eligible repeat orders preceded by a touchpoint journey
        (first purchases always are).
    journey_gap_days : float
        Minimum silence around each journey (the lookback window is 30 days).
    """

    name: str = "custom"
    regions: tuple[str, ...] = ("east", "south", "north", "west")
    stores_per_region: int = 15
    kos_per_store: float = 3.0
    customers: int = 20_000
    start: str = "2023-01-02"
    weeks: int = 156
    cohort_weeks: tuple[int, ...] = (60, 80, 100)
    region_rollout: Mapping[str, int] = field(default_factory=lambda: {"west": 70})
    never_treated_share: float = 0.3
    late_opening_stores: int = 1
    att_max: float = 2500.0
    ramp_weeks: int = 8
    cohort_multipliers: tuple[float, ...] | None = None
    bgnbd: tuple[float, float, float, float] = (0.8, 8.0, 0.8, 6.0)
    gamma_gamma: tuple[float, float, float] = (6.0, 3.5, 250.0)
    copula_rho: tuple[float, float] = (0.6, 0.0)
    kos_bound_share: float = 0.75
    promotion_effect: float | None = 600.0
    feedback_share: float = 0.12
    closure_hazard_ratio: float = 1.6
    strategy_rate_ratio: float = 1.5
    strategy_share: float = 0.25
    journey_conversion_share: float = 0.1
    journey_gap_days: float = 31.0

    def __post_init__(self) -> None:
        if not self.regions:
            raise KosParameterError("regions=() must name at least one region")
        for region in self.regions:
            if not (region.isascii() and region.replace("_", "").isalnum() and region.islower()):
                raise KosParameterError(f"region {region!r} must be a lower-case ASCII slug, e.g. 'east'")
        if pd.Timestamp(self.start).day_of_week != 0:
            raise KosParameterError(f"start={self.start!r} must be a Monday (week 1 starts on it)")
        unknown = set(self.region_rollout) - set(self.regions)
        if unknown:
            raise KosParameterError(f"region_rollout names regions {sorted(unknown)} not in regions={self.regions}")
        for w in (*self.cohort_weeks, *self.region_rollout.values()):
            if not 2 <= w <= self.weeks:
                raise KosParameterError(f"cohort week {w} must lie in 2..weeks={self.weeks}")
        if self.customers < 10 * len(self.regions):
            raise KosParameterError(f"customers={self.customers} is too small for {len(self.regions)} regions")

    def base_only(self) -> "Scenario":
        """The same scenario with every layer switched off: orders follow BG/NBD + Gamma-Gamma exactly."""
        return dataclasses.replace(self, att_max=0.0, promotion_effect=None, feedback_share=0.0)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["region_rollout"] = dict(self.region_rollout)
        return d


def _preset_regions(n: int) -> tuple[str, ...]:
    named = ("east", "south", "north", "west", "central", "northeast", "southwest", "northwest")
    return named[:n] if n <= len(named) else named + tuple(f"r{i:02d}" for i in range(len(named) + 1, n + 1))


PRESETS: dict[str, Scenario] = {
    "sample": Scenario(name="sample"),
    "medium": Scenario(
        name="medium",
        regions=_preset_regions(8),
        stores_per_region=40,
        customers=350_000,
        region_rollout={"west": 70},
    ),
    "large": Scenario(
        name="large",
        regions=_preset_regions(24),
        stores_per_region=120,
        customers=3_500_000,
        region_rollout={"west": 70},
    ),
}


def _resolve(scenario: Scenario | str) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    try:
        return PRESETS[scenario]
    except KeyError:
        raise KosParameterError(f"scenario={scenario!r} is not a preset; choose one of {sorted(PRESETS)}") from None


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SimulatedData:
    """A simulated dataset and the truth it planted.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Every table of the data contract, keyed by table name.
    truth : dict
        The planted parameters (the content of ``truth.json``).
    truth_tiers : DataFrame
        Latent tier of every customer in every month: ``customer_id, period, tier``.
    truth_feedback : DataFrame
        True category of every feedback item: ``feedback_id, category``.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]
    truth_tiers: pd.DataFrame
    truth_feedback: pd.DataFrame

    def dataset(self, *, regions=None, validate: bool = True):
        """Open the simulated tables as a :class:`kosresearch.Dataset`."""
        from kosresearch.data.loader import open_dataset

        return open_dataset(self.tables, regions=regions, validate=validate)

    def write(self, out: str | os.PathLike) -> Path:
        """Write the data as Parquet partitioned by region, plus the truth files, under ``out``."""
        out = Path(out)
        writer = _DiskWriter(out)
        parts = writer.tmp / "_truth_parts"
        parts.mkdir()
        for ri, region in enumerate(self.truth["regions"]):
            frames = {name: df[df["region"] == region] for name, df in self.tables.items()}
            _write_region(writer.tmp, region, _frames_to_arrow(frames))
        pq.write_table(pa.Table.from_pandas(self.truth_tiers, preserve_index=False), parts / "tiers-0000.parquet")
        pq.write_table(pa.Table.from_pandas(self.truth_feedback, preserve_index=False), parts / "feedback-0000.parquet")
        writer.finish(self.truth, regions=list(self.truth["regions"]))
        return out


# --------------------------------------------------------------------------- public entry points


def simulate(scenario: Scenario | str = "sample", *, seed: int) -> SimulatedData:
    """Simulate a KOS-programme dataset with planted truth.

    Parameters
    ----------
    scenario : Scenario or str
        A :class:`Scenario` or a preset name (``"sample"``, ``"medium"``,
        ``"large"``; the large one does not fit comfortably in memory, write
        it with :func:`simulate_to_disk`).
    seed : int
        Seed; the same seed and scenario give identical data.

    Returns
    -------
    SimulatedData
        ``tables`` (all 13 contract tables), ``truth``, ``truth_tiers``,
        ``truth_feedback``.

    Examples
    --------
    >>> import dataclasses, kosresearch as kr
    >>> small = dataclasses.replace(kr.PRESETS["sample"], customers=2_000, stores_per_region=4)
    >>> sim = kr.simulate(small, seed=1)
    >>> sorted(sim.tables) == sorted(kr.data.contract.TABLE_NAMES)
    True
    """
    sc = _resolve(scenario)
    parts: dict[str, list[pa.Table]] = {name: [] for name in TABLE_NAMES}
    tiers, feedback, region_truths = [], [], []
    for ri, region in enumerate(sc.regions):
        res = _simulate_region(sc, ri, region, seed)
        for name, tbl in res.tables.items():
            parts[name].append(tbl)
        tiers.append(res.truth_tiers)
        feedback.append(res.truth_feedback)
        region_truths.append(res.truth)
    tables = {name: _arrow_to_frame(pa.concat_tables(parts[name]), name) for name in TABLE_NAMES}
    truth = _assemble_truth(sc, seed, region_truths)
    truth_tiers = pa.concat_tables(tiers).to_pandas()
    truth_feedback = pa.concat_tables(feedback).to_pandas()
    return SimulatedData(tables, truth, truth_tiers, truth_feedback)


def simulate_to_disk(
    scenario: Scenario | str,
    out: str | os.PathLike,
    *,
    seed: int,
    jobs: int | None = None,
    progress: bool = True,
) -> Path:
    """Simulate region by region and write Parquet partitioned by region plus the truth files.

    Writes ``<out>/<table>/region=<r>/part-0.parquet`` for every table,
    ``truth.json``, ``truth_tiers.parquet`` and ``truth_feedback.parquet``.
    Regions are generated in ``jobs`` worker processes (default: the number
    of cores), each writing its own partitions, so peak memory is that of
    ``jobs`` regions. Everything is written into a temporary folder that
    replaces ``out`` only when complete (a ``README*`` already in ``out`` is
    kept). The content equals ``simulate(scenario, seed=seed)``.
    """
    sc = _resolve(scenario)
    out = Path(out)
    jobs = _cores() if jobs is None else int(jobs)
    if jobs < 1:
        raise KosParameterError(f"jobs={jobs} must be at least 1")
    writer = _DiskWriter(out)
    bar = _progress(len(sc.regions), enabled=progress, desc=f"simulate {sc.name}")
    tasks = [(sc, ri, region, seed, str(writer.tmp)) for ri, region in enumerate(sc.regions)]
    region_truths: dict[int, dict] = {}
    try:
        if jobs == 1 or len(tasks) == 1:
            for task in tasks:
                region_truths[task[1]] = _region_to_disk(*task)
                bar.update(1)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=mp.get_context("spawn")) as pool:
                futures = {pool.submit(_region_to_disk, *task): task[1] for task in tasks}
                for fut in as_completed(futures):
                    region_truths[futures[fut]] = fut.result()
                    bar.update(1)
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    ordered = [region_truths[i] for i in range(len(tasks))]
    writer.finish(_assemble_truth(sc, seed, ordered), regions=list(sc.regions))
    return out


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _region_to_disk(sc: Scenario, ri: int, region: str, seed: int, tmp: str) -> dict:
    """Worker: generate one region and write its tables and truth parts under ``tmp``."""
    res = _simulate_region(sc, ri, region, seed)
    _write_region(Path(tmp), region, res.tables)
    parts = Path(tmp) / "_truth_parts"
    parts.mkdir(exist_ok=True)
    pq.write_table(res.truth_tiers, parts / f"tiers-{ri:04d}.parquet", compression="zstd")
    pq.write_table(res.truth_feedback, parts / f"feedback-{ri:04d}.parquet", compression="zstd")
    return res.truth


def _progress(total: int, *, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="region")


# --------------------------------------------------------------------------- writing


def _write_region(root: Path, region: str, tables: Mapping[str, pa.Table]) -> None:
    for name, tbl in tables.items():
        folder = root / name / f"region={region}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(tbl.drop_columns(["region"]), folder / "part-0.parquet", compression="zstd",
                       row_group_size=1_000_000)


class _DiskWriter:
    """Collects region partitions in a temporary folder and moves it into place at the end."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        if self.tmp.exists():
            _rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def abort(self) -> None:
        _rmtree(self.tmp)

    def finish(self, truth: dict, *, regions: list[str]) -> None:
        parts = self.tmp / "_truth_parts"
        for kind, fname in (("tiers", "truth_tiers.parquet"), ("feedback", "truth_feedback.parquet")):
            files = sorted(parts.glob(f"{kind}-*.parquet"))
            schema = pq.read_schema(files[0])
            with pq.ParquetWriter(self.tmp / fname, schema, compression="zstd") as w:
                for f in files:
                    w.write_table(pq.read_table(f).cast(schema))
        _rmtree(parts)
        (self.tmp / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        keep = [p for p in self.out.iterdir() if p.name.lower().startswith("readme")] if self.out.exists() else []
        for p in keep:
            os.replace(p, self.tmp / p.name)
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
            os.replace(self.out, old)
            os.replace(self.tmp, self.out)
            _rmtree(old)
        else:
            os.replace(self.tmp, self.out)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


_ARROW_TYPES = {
    "id": pa.string(),
    "string": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
}


def _schema(name: str) -> pa.Schema:
    table = next(t for t in TABLES if t.name == name)
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind], nullable=c.nullable) for c in table.columns])


def _arrow_to_frame(tbl: pa.Table, name: str) -> pd.DataFrame:
    df = tbl.to_pandas()
    for col in next(t for t in TABLES if t.name == name).columns:
        if col.kind in ("id", "string"):
            df[col.name] = df[col.name].astype("str")
        elif col.kind == "date":
            df[col.name] = pd.to_datetime(df[col.name]).astype("datetime64[s]")
        elif col.kind == "timestamp":
            df[col.name] = df[col.name].astype("datetime64[us]")
    return df


def _frames_to_arrow(frames: Mapping[str, pd.DataFrame]) -> dict[str, pa.Table]:
    out = {}
    for name, df in frames.items():
        schema = _schema(name)
        out[name] = pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
    return out


# --------------------------------------------------------------------------- truth


def _cohort_multipliers(sc: Scenario) -> dict[int, float]:
    weeks = sorted(set(sc.cohort_weeks) | set(sc.region_rollout.values()))
    if sc.cohort_multipliers is not None:
        if len(sc.cohort_multipliers) != len(weeks):
            raise KosParameterError(
                f"cohort_multipliers has {len(sc.cohort_multipliers)} values for {len(weeks)} cohorts {weeks}"
            )
        return dict(zip(weeks, map(float, sc.cohort_multipliers)))
    return {w: max(0.6, 1.25 - 0.15 * k) for k, w in enumerate(weeks)}


def _ramp(sc: Scenario, e: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, (np.asarray(e, dtype=float) + 1.0) / sc.ramp_weeks)


def _assemble_truth(sc: Scenario, seed: int, region_truths: list[dict]) -> dict[str, Any]:
    mult = _cohort_multipliers(sc)
    cohorts: dict[int, list[str]] = {}
    never: list[str] = []
    late: list[str] = []
    for rt in region_truths:
        for store, g in rt["store_cohort"].items():
            if g is None:
                never.append(store)
            else:
                cohorts.setdefault(g, []).append(store)
        late += rt["late_opening_stores"]
    cohorts = {g: sorted(cohorts[g]) for g in sorted(cohorts)}
    att_by_cohort: dict[str, dict[str, float]] = {}
    num: dict[int, float] = {}
    den: dict[int, int] = {}
    total, cells = 0.0, 0
    for g, stores in cohorts.items():
        e = np.arange(0, sc.weeks - g + 1)
        tau = sc.att_max * mult[g] * _ramp(sc, e)
        att_by_cohort[str(g)] = {str(int(k)): round(float(v), 6) for k, v in zip(e, tau)}
        for k, v in zip(e, tau):
            num[int(k)] = num.get(int(k), 0.0) + v * len(stores)
            den[int(k)] = den.get(int(k), 0) + len(stores)
        total += float(tau.sum()) * len(stores)
        cells += len(e) * len(stores)
    states, P = planted_channel_matrix()
    ch_idx = [states.index(c) for c in JOURNEY_CHANNELS]
    re = removal_effects(P, start=0, conversion=states.index("(conversion)"), null=states.index("(null)"), channels=ch_idx)
    p_conv = conversion_probability(P, start=0, conversion=states.index("(conversion)"), null=states.index("(null)"))
    merged = lambda key: {k: v for rt in region_truths for k, v in rt[key].items()}  # noqa: E731
    return {
        "simulator_version": 1,
        "seed": seed,
        "scenario": sc.to_dict(),
        "regions": list(sc.regions),
        "week_index_start": sc.start,
        "programme": {
            "outcome": "weekly store sales (sum of order amounts), CNY",
            "week_index_start": sc.start,
            "weeks": sc.weeks,
            "att_overall": (total / cells) if cells else 0.0,
            "att_by_event_week": {str(k): num[k] / den[k] for k in sorted(num)},
            "att_by_cohort": att_by_cohort,
            "cohorts": {str(g): s for g, s in cohorts.items()},
            "cohort_multipliers": {str(g): mult[g] for g in cohorts},
            "never_treated": sorted(never),
            "late_opening_stores": sorted(late),
            "region_rollout": dict(sc.region_rollout),
            "att_max": sc.att_max,
            "ramp_weeks": sc.ramp_weeks,
            "anticipation": 0,
        },
        "content": _CONTENT_TRUTH,
        "tiers": {
            "states": list(TIER_STATES),
            "period": "M",
            "transition_matrix": {rt["region"]: rt["tier_matrix"] for rt in region_truths},
            "initial_distribution": list(_TIER_INIT),
        },
        "bgnbd": dict(zip(("r", "alpha", "a", "b"), sc.bgnbd), time_unit="W"),
        "gamma_gamma": dict(zip(("p", "q", "gamma"), sc.gamma_gamma)),
        "journeys": {
            "channels": list(JOURNEY_CHANNELS),
            "states": states,
            "transition_matrix": P.round(12).tolist(),
            "conversion_probability": p_conv,
            "removal_effects": dict(zip(JOURNEY_CHANNELS, re.tolist())),
            "lookback_days": 30,
        },
        "kos_skill": merged("kos_skill"),
        "kos_response_median_minutes": merged("kos_response"),
        "kos_first_contact_mean_hours": merged("kos_first_contact"),
        "kos_even_effort": sorted(k for rt in region_truths for k in rt["kos_even"]),
        "business_hours": ["09:00", "21:00"],
        "promotion": {
            "spend_effect_90d": sc.promotion_effect or 0.0,
            "window_days": 90,
            "selection": (
                "each month from the customer's 4th, advisor-bound customers not invited before are invited with "
                "probability logit^-1(b0_region + 0.9*log1p(spend in the previous 3 full calendar months / 100) "
                "+ 0.5*log1p(customer private messages in the previous month) + 0.3*[orders in the previous 3 months >= 2]); "
                "b0_region is calibrated per region to a 0.6% monthly rate, so adjust for region too"
            ),
            "n_invites": int(sum(rt["n_invites"] for rt in region_truths)),
        },
        "feedback": {
            "closure_hazard_ratio": sc.closure_hazard_ratio,
            "horizon_days": 90,
            "outcome": "time from feedback created_at to the next order, censored at 90 days",
            "tenure_log_hr_per_year": _FEEDBACK_TENURE_LOGHR,
            "n_feedback": int(sum(rt["n_feedback"] for rt in region_truths)),
        },
        "cac": dict(_CAC_MEAN),
        "strategy_change": {"rate_ratio": sc.strategy_rate_ratio, "outcome": "interactions per impression"},
        "exactness": (
            "BG/NBD and Gamma-Gamma hold exactly for all orders when the layers are off "
            "(Scenario.base_only()); with them on, programme, promotion and feedback-repurchase orders are added "
            "and base orders inside feedback windows are replaced."
        ),
    }


# The region generator lives in its own module; imported late to keep this file readable.
from kosresearch.data._sim_region import (  # noqa: E402
    _CAC_MEAN,
    _CONTENT_TRUTH,
    _FEEDBACK_TENURE_LOGHR,
    _TIER_INIT,
    _simulate_region,
)
