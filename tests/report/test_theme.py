"""The figure theme renders Chinese text with a CJK font, not with tofu boxes."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from kosresearch.report.theme import CJK_FAMILIES, resolve_cjk_font, set_theme  # noqa: E402

TEXT = "华东 销售额（元）— 核心价值层 / 潜力增长层 / 大众互动层 −5"


def _draw_chinese() -> None:
    fig, ax = plt.subplots()
    ax.set_title(TEXT)
    ax.set_xlabel("月份")
    ax.plot([1, 2], [-1, 3], label="新客户数")
    ax.legend()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        fig.canvas.draw()
    plt.close(fig)


@pytest.mark.parametrize("use_system_font", [True, False], ids=["system-first", "mplfonts-only"])
def test_chinese_labels_render_with_a_cjk_font(use_system_font):
    family = set_theme(use_system_font=use_system_font)
    assert family in CJK_FAMILIES
    resolved = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]), fallback_to_default=False)
    assert font_manager.FontProperties(fname=resolved).get_name() == family
    _draw_chinese()


def test_the_shipped_font_is_noto_sans_cjk_sc_not_simhei():
    assert resolve_cjk_font(use_system=False) == "Noto Sans CJK SC"


def test_without_the_theme_the_check_would_catch_tofu():
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        with pytest.raises(UserWarning, match="Glyph .* missing"):
            _draw_chinese()
