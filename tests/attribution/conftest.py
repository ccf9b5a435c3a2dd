"""Shared simulated datasets of the attribution tests (module-scoped: each takes seconds)."""

from __future__ import annotations

import dataclasses

import pytest

import kosresearch as kr


@pytest.fixture(scope="session")
def journey_sim():
    """Sample-sized data whose journeys are walks of the planted channel chain (layers off: faster)."""
    sc = dataclasses.replace(kr.PRESETS["sample"], att_max=0.0, promotion_effect=None, feedback_share=0.0)
    return kr.simulate(sc, seed=4)


@pytest.fixture(scope="session")
def rollout_sim():
    """A larger roll-out (120 stores) with every layer on, for recovering the planted programme effect."""
    sc = dataclasses.replace(kr.PRESETS["sample"], stores_per_region=30, customers=40_000)
    return kr.simulate(sc, seed=11)
