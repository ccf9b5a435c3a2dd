"""Chinese text banks for the simulator (messages, feedback, names, cities).

Texts are expanded once into fixed banks; the simulator draws indices into
them, so generating millions of messages costs no string formatting.
Written for this project; any resemblance to real customers is accidental.
"""

from __future__ import annotations

import itertools

import numpy as np

PRODUCTS = ("精华液", "面霜", "防晒霜", "连衣裙", "羊绒大衣", "运动鞋", "保温杯", "香水", "口红", "卫衣")
COLORS = ("黑色", "米白色", "藏青色", "酒红色", "浅灰色")

CITIES = {
    "east": ("上海", "杭州", "南京", "苏州", "宁波", "合肥"),
    "south": ("广州", "深圳", "厦门", "福州", "南宁", "东莞"),
    "north": ("北京", "天津", "济南", "青岛", "石家庄", "太原"),
    "west": ("成都", "重庆", "西安", "昆明", "贵阳", "兰州"),
    "central": ("武汉", "长沙", "郑州", "南昌"),
    "northeast": ("沈阳", "大连", "哈尔滨", "长春"),
    "southwest": ("成都", "昆明", "贵阳", "拉萨"),
    "northwest": ("西安", "兰州", "银川", "乌鲁木齐"),
}
OTHER_CITIES = ("城市A", "城市B", "城市C", "城市D")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢"
GIVEN = (
    "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "晓燕", "雪", "佳怡", "子涵", "欣怡", "梓萱", "思远", "浩然", "宇轩", "婷婷", "文博",
)

#: messages that need no reply (thanks, acknowledgements, emoji only)
NO_REPLY = ("谢谢", "好的", "收到", "嗯嗯", "👍", "🙏", "好的谢谢", "OK", "👌", "谢谢亲")


def _expand(templates: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for tpl in templates:
        if "{product}" in tpl and "{color}" in tpl:
            out += [tpl.format(product=p, color=c) for p, c in itertools.product(PRODUCTS, COLORS)]
        elif "{product}" in tpl:
            out += [tpl.format(product=p) for p in PRODUCTS]
        else:
            out.append(tpl)
    return tuple(out)


CUSTOMER_QUESTIONS = _expand(
    (
        "这款{product}有{color}吗？",
        "请问{product}怎么用效果最好？",
        "{product}最近有活动吗？",
        "我上次买的{product}快用完了，还有货吗",
        "周末门店几点关门？",
        "能帮我预约一下到店试穿吗",
        "快递到哪里了？",
        "{product}适合敏感肌吗",
        "有没有新品推荐",
        "会员积分怎么兑换？",
        "{product}可以寄到外地吗",
        "这个价格还能再优惠点吗",
        "在吗？想问下{product}的尺码",
    )
)
KOS_REPLIES = _expand(
    (
        "您好，在的！{product}目前有现货",
        "亲，{product}建议早晚各用一次哦",
        "这周会员日有满减活动，我把链接发您",
        "已经帮您预约好了，到店报手机尾号就行",
        "我帮您查一下物流，稍等哦",
        "好的，我马上为您安排",
        "给您发几张实拍图参考一下",
        "有任何问题随时找我哦",
    )
)
KOS_OUTREACH = _expand(
    (
        "新品{product}到店啦，给您留了一份试用装",
        "本周会员日，老客户专享折扣",
        "天气转凉，记得换季护理哦",
        "上次您问的{product}补货了",
        "店里周六有沙龙活动，欢迎来玩",
    )
)
GROUP_POSTS = _expand(
    (
        "今晚8点直播间见，抽奖送{product}",
        "群福利：{product}限时团购",
        "分享一个{product}的小技巧",
        "早上好，今天门店有新品到货",
    )
)
CUSTOMER_GROUP = _expand(
    (
        "已下单，期待",
        "{product}真的好用",
        "请问团购什么时候截止",
        "打卡",
        "收到福利啦，谢谢群主",
        "我也想要{product}",
    )
)

FEEDBACK = {
    "service": _expand(
        (
            "快递三天了还没到，能帮忙催一下吗",
            "{product}不知道怎么用，能教一下吗",
            "想预约周六下午到店，有位置吗",
            "收到的{product}包装破了，怎么处理",
            "退换货流程太麻烦了，能帮我办一下吗",
            "会员卡积分没到账",
            "发票还没开，麻烦处理一下",
        )
    ),
    "product": _expand(
        (
            "建议{product}出个小容量旅行装",
            "{product}的泵头容易坏，希望改进",
            "希望{product}多出几个颜色，比如{color}",
            "{product}的味道有点重，能不能出无香版",
            "建议包装做成可回收的",
            "{product}尺码偏小，建议调整版型",
            "希望出{product}的补充装，更环保",
        )
    ),
    "praise": _expand(
        (
            "{product}用了一个月，皮肤状态好多了，谢谢推荐",
            "导购小姐姐超级耐心，体验很好",
            "{product}质量很好，已经推荐给朋友了",
            "上次的服务太贴心了，点赞",
            "物流很快，包装也很用心",
        )
    ),
}

STRATEGY_CHANGES = (
    "改发教程类短视频",
    "固定每周三晚直播",
    "朋友圈改为实拍+使用心得",
    "社群每日早安互动",
    "小红书笔记增加真人试用",
)

CHANNEL_NAMES_ZH = {
    "paid_ad": "付费广告",
    "xiaohongshu": "小红书",
    "douyin": "抖音",
    "wechat_private": "微信私聊",
    "wechat_group": "微信社群",
    "live_stream": "直播",
    "koc_post": "KOC笔记",
    "store_visit": "到店",
}


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` plausible Chinese display names."""
    sur = np.array(list(SURNAMES))[rng.integers(0, len(SURNAMES), n)]
    given = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    return np.char.add(sur.astype(str), given.astype(str))


def phone_number(rng: np.random.Generator) -> str:
    """A mobile number of the mainland format (fictitious, for masking tests)."""
    return "1" + str(rng.choice([3, 5, 7, 8, 9])) + "".join(map(str, rng.integers(0, 10, 9)))
