"""The 47 prefectures (都道府県) by their JIS X 0401 codes, which are the first two digits of every
municipality's code (全国地方公共団体コード): ``131016`` (千代田区) is in ``13`` (東京都).

The order of the codes is the order a kiosk lists the prefectures in (north to south, 北海道 to
沖縄県), as the real service's screens and every national list do.
"""

from __future__ import annotations

from documents.issue_number import is_municipality_code

PREFECTURES: tuple[str, ...] = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)


def prefecture_code(municipality: str) -> str:
    """The JIS X 0401 code of the municipality's prefecture (``"13"``); ``ValueError`` if
    ``municipality`` is not a code of one of the 47."""
    if not is_municipality_code(municipality) or not 1 <= int(municipality[:2]) <= len(PREFECTURES):
        raise ValueError("not the code of a municipality of one of the 47 prefectures")
    return municipality[:2]


def prefecture_of(municipality: str) -> str:
    """The name of the municipality's prefecture (``"東京都"`` for ``131016``); ``ValueError`` as
    :func:`prefecture_code`."""
    return PREFECTURES[int(prefecture_code(municipality)) - 1]
