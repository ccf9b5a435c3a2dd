"""Masking of personal data in free text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch import mask_personal_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话13812345678", "我的电话[手机号]"),
        ("电话 138-1234-5678 找我", "电话 [手机号] 找我"),
        ("打 138 1234 5678", "打 [手机号]"),
        ("+86 13812345678", "[手机号]"),
        ("+8613812345678", "[手机号]"),
        ("手机１３８１２３４５６７８", "手机[手机号]"),
        ("身份证号11010519491231002X", "身份证号[身份证号]"),
        ("身份证号11010519491231002x，谢谢", "身份证号[身份证号]，谢谢"),
        ("身份证 110105 19491231 0021", "身份证 [身份证号]"),
        ("旧身份证110105491231002", "旧身份证[身份证号]"),
        ("座机 021-65432198", "座机 [电话]"),
        ("(0755)87654321", "[电话]"),
        ("卡号6222 0212 3456 7890 123", "卡号[银行卡号]"),
        ("邮箱 abc123@163.com 谢谢", "邮箱 [邮箱] 谢谢"),
        ("加我微信 happy_mom2020 发图", "加我微信 [微信号] 发图"),
        ("vx：lily_shop88", "vx：[微信号]"),
        ("QQ号是88886666", "QQ号是[QQ号]"),
        ("工单号2023111533912", "工单号[号码]"),
    ],
)
def test_personal_data_is_replaced_by_a_placeholder(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    ["价格1999元，买了3件", "37码的白色", "2024-03-05 到店", "订单 12345678", "尺码XL，身高170", "快递三天了还没到"],
)
def test_ordinary_numbers_are_left_alone(text):
    assert mask_personal_data(text) == text


def test_a_number_inside_a_longer_number_is_not_mistaken_for_a_phone():
    masked = mask_personal_data("编号9913812345678")  # 13 digits
    assert "138" not in masked and masked == "编号[号码]"


def test_the_simulator_planted_phone_and_id_numbers_are_all_masked():
    import kosresearch as kr

    small = kr.Scenario(customers=4000, stores_per_region=6, regions=("east", "west"), region_rollout={"west": 70})
    sim = kr.simulate(small, seed=2)
    fb = sim.tables["feedback"]
    planted = sim.truth_feedback["text_has_personal_data"].to_numpy()
    assert planted.sum() > 0
    masked = mask_personal_data(fb["text"])
    assert not masked.str.contains(r"\d{7,}").any()
    assert masked[planted].str.contains(r"\[手机号\]|\[身份证号\]").all()
    assert (masked[~planted] == fb["text"][~planted]).all()


def test_series_keep_their_index_and_missing_values_and_the_input_is_not_changed():
    s = pd.Series(["电话13812345678", None, np.nan, "好"], index=[10, 11, 12, 13])
    before = s.copy()
    out = mask_personal_data(s)
    assert list(out.index) == [10, 11, 12, 13]
    assert out[10] == "电话[手机号]" and pd.isna(out[11]) and pd.isna(out[12]) and out[13] == "好"
    pd.testing.assert_series_equal(s, before)
    assert mask_personal_data(["13812345678", None]) == ["[手机号]", None]
    assert mask_personal_data(None) is None


def test_other_objects_are_refused():
    with pytest.raises(TypeError, match="got int"):
        mask_personal_data(13812345678)
