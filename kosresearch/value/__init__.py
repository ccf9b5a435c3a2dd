"""Value accounting: CAC by channel, referral economics, CLV (BG/NBD + Gamma-Gamma), LTV/CAC and payback.

Public names are re-exported here; see each module for details:

- :mod:`kosresearch.value.rfm`: ``rfm_summary``, ``calibration_holdout``;
- :mod:`kosresearch.value.clv`: ``BetaGeo``, ``GammaGamma``,
  ``customer_lifetime_value``, ``holdout_check``;
- :mod:`kosresearch.value.cac`: ``acquisition_costs``, ``referral_economics``;
- :mod:`kosresearch.value.ltv`: ``ltv_cac``.
"""

from __future__ import annotations

from kosresearch.value.cac import AcquisitionCostResult, ReferralResult, acquisition_costs, referral_economics
from kosresearch.value.clv import (
    BetaGeo,
    GammaGamma,
    HoldoutResult,
    ModelIdentificationWarning,
    customer_lifetime_value,
    holdout_check,
)
from kosresearch.value.ltv import LtvCacResult, channel_label, ltv_cac
from kosresearch.value.rfm import calibration_holdout, rfm_summary

__all__ = [
    "AcquisitionCostResult",
    "BetaGeo",
    "GammaGamma",
    "HoldoutResult",
    "LtvCacResult",
    "ModelIdentificationWarning",
    "ReferralResult",
    "acquisition_costs",
    "calibration_holdout",
    "channel_label",
    "customer_lifetime_value",
    "holdout_check",
    "ltv_cac",
    "referral_economics",
    "rfm_summary",
]
