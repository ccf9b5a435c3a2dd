"""Report helpers of notebooks 04 and 05: headlines, digests and escaped narratives."""

from __future__ import annotations

import kosresearch as kr
from kosresearch.feedback import feedback_funnel, held_out_evaluation
from kosresearch.feedback import notebook as fnb
from kosresearch.scorecard import best_practices, leader_profile, scorecard, team_trends
from kosresearch.scorecard import notebook as snb
from tests.scorecard.helpers import tiny_feedback, weekly_frame


def _frame():
    kos = {f"k{i}": {"book_sales": 10.0 + i, "posts": i, "new_members_spoke_7d": 1 + (i == 0) * 8}
           for i in range(8)}
    frame = weekly_frame(kos, weeks=6)
    frame.loc[frame["kos_id"] == "k0", "kos_name"] = "<b>*Wang*</b>"
    return frame


def test_scorecard_headlines_digest_and_escaped_narrative():
    frame = _frame()
    card = scorecard(frame, period="M", n_boot=20)
    trends = team_trends(frame, period="M")
    best = best_practices(frame, metric="new_member_speak_share")
    profile = leader_profile(frame, n_boot=50)
    heads = snb.scorecard_headlines(card, trends, best, lang="en")
    assert [h.name for h in heads][:2] == ["kos_scored", "sla_share"]
    assert heads[0].estimate == 8
    assert snb.scorecard_digest(card, best).startswith("periods=2 kos_last_period=8")
    for lang in ("zh", "en"):
        text = snb.scorecard_narrative(card, best, profile, trends, region="east", lang=lang)
        note = snb.rank_note(card, lang=lang)
        assert "<b>" not in text + note
    assert "&lt;b&gt;" in snb.scorecard_narrative(card, best, profile, trends, region="east", lang="en")


def test_feedback_headlines_and_narrative_without_an_effect():
    funnel = feedback_funnel(kr.open_dataset(tiny_feedback()))
    quality = held_out_evaluation()
    heads = fnb.feedback_headlines(funnel, None, quality, lang="zh")
    assert heads[0].estimate == 3 and heads[-1].estimate is None
    assert heads[2].estimate >= 0.85
    text = fnb.closure_note(None, lang="en")
    assert "Too little data" in text
