"""Sample data for :mod:`devtools.synthetic`: common Japanese family and given names with
their readings (by the era a person was born in), town names, building names, other places in
Japan, and what foreign residents' records look like by nationality.

All of it is generic (the commonest surnames, names popular in each era, town names found in
many cities): no real person's record. Readings are katakana, as the resident register keeps them
(氏名のフリガナ).
"""

from __future__ import annotations

from dataclasses import dataclass

Name = tuple[str, str]  # (kanji, katakana)

FAMILY_NAMES: tuple[Name, ...] = (
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("坂本", "サカモト"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("西村", "ニシムラ"),
    ("藤井", "フジイ"),
    ("金子", "カネコ"),
    ("岡本", "オカモト"),
    ("藤原", "フジワラ"),
    ("中野", "ナカノ"),
    ("三浦", "ミウラ"),
    ("原田", "ハラダ"),
    ("松田", "マツダ"),
    ("竹内", "タケウチ"),
    ("中川", "ナカガワ"),
    ("小野", "オノ"),
    ("田村", "タムラ"),
)

# Given names by sex and by the era of birth: before 1955, 1955-1984, from 1985.
MALE_NAMES: tuple[tuple[Name, ...], ...] = (
    (
        ("茂", "シゲル"),
        ("清", "キヨシ"),
        ("勇", "イサム"),
        ("博", "ヒロシ"),
        ("実", "ミノル"),
        ("正", "タダシ"),
        ("進", "ススム"),
        ("昭", "アキラ"),
        ("武", "タケシ"),
        ("三郎", "サブロウ"),
        ("一郎", "イチロウ"),
        ("正雄", "マサオ"),
    ),
    (
        ("誠", "マコト"),
        ("浩", "ヒロシ"),
        ("隆", "タカシ"),
        ("健一", "ケンイチ"),
        ("修", "オサム"),
        ("学", "マナブ"),
        ("直樹", "ナオキ"),
        ("和也", "カズヤ"),
        ("達也", "タツヤ"),
        ("哲也", "テツヤ"),
        ("大輔", "ダイスケ"),
        ("剛", "ツヨシ"),
    ),
    (
        ("翔太", "ショウタ"),
        ("拓也", "タクヤ"),
        ("健太", "ケンタ"),
        ("大樹", "ダイキ"),
        ("蓮", "レン"),
        ("湊", "ミナト"),
        ("陽翔", "ハルト"),
        ("悠真", "ユウマ"),
        ("樹", "イツキ"),
        ("大和", "ヤマト"),
        ("颯太", "ソウタ"),
        ("陸", "リク"),
    ),
)
FEMALE_NAMES: tuple[tuple[Name, ...], ...] = (
    (
        ("幸子", "サチコ"),
        ("和子", "カズコ"),
        ("節子", "セツコ"),
        ("洋子", "ヨウコ"),
        ("美代子", "ミヨコ"),
        ("久子", "ヒサコ"),
        ("文子", "フミコ"),
        ("静江", "シズエ"),
        ("千代", "チヨ"),
        ("花子", "ハナコ"),
        ("光子", "ミツコ"),
        ("登美子", "トミコ"),
    ),
    (
        ("恵子", "ケイコ"),
        ("京子", "キョウコ"),
        ("久美子", "クミコ"),
        ("裕子", "ユウコ"),
        ("真由美", "マユミ"),
        ("明美", "アケミ"),
        ("智子", "トモコ"),
        ("直美", "ナオミ"),
        ("由美", "ユミ"),
        ("典子", "ノリコ"),
        ("陽子", "ヨウコ"),
        ("順子", "ジュンコ"),
    ),
    (
        ("美咲", "ミサキ"),
        ("愛", "アイ"),
        ("彩", "アヤ"),
        ("舞", "マイ"),
        ("陽菜", "ヒナ"),
        ("結衣", "ユイ"),
        ("葵", "アオイ"),
        ("凛", "リン"),
        ("芽依", "メイ"),
        ("紬", "ツムギ"),
        ("美月", "ミツキ"),
        ("千尋", "チヒロ"),
    ),
)
ERA_STARTS = (1955, 1985)  # the first birth year of the second and third lists

# Town names (町名) found in many cities; a synthetic municipality takes a handful of them.
TOWNS: tuple[str, ...] = (
    "本町",
    "栄町",
    "緑町",
    "旭町",
    "幸町",
    "桜木町",
    "若葉",
    "中央",
    "東町",
    "西町",
    "南町",
    "北町",
    "青葉台",
    "花園",
    "松が丘",
    "富士見",
    "八幡町",
    "宮前",
    "大和町",
    "錦町",
    "寿町",
    "春日",
    "天神",
    "港町",
    "元町",
    "新町",
    "住吉",
    "柳町",
    "桜ケ丘",
    "日吉町",
)
APARTMENT_NAMES: tuple[str, ...] = (
    "ハイツ",
    "マンション",
    "コーポ",
    "レジデンス",
    "メゾン",
    "パークハイツ",
    "グランドハイム",
    "サンライズマンション",
    "ヴィラ",
    "コートハウス",
)

# (prefecture, municipality) of other places: previous addresses, registered domiciles elsewhere,
# birthplaces. A generated municipality never uses its own entry.
PLACES: tuple[tuple[str, str], ...] = (
    ("北海道", "札幌市中央区"),
    ("青森県", "弘前市"),
    ("宮城県", "仙台市青葉区"),
    ("新潟県", "新潟市中央区"),
    ("長野県", "松本市"),
    ("埼玉県", "さいたま市浦和区"),
    ("千葉県", "船橋市"),
    ("東京都", "世田谷区"),
    ("東京都", "八王子市"),
    ("神奈川県", "横浜市港北区"),
    ("静岡県", "静岡市葵区"),
    ("愛知県", "名古屋市中区"),
    ("京都府", "京都市左京区"),
    ("大阪府", "大阪市北区"),
    ("兵庫県", "神戸市中央区"),
    ("岡山県", "岡山市北区"),
    ("広島県", "広島市中区"),
    ("香川県", "高松市"),
    ("福岡県", "福岡市博多区"),
    ("熊本県", "熊本市中央区"),
    ("鹿児島県", "鹿児島市"),
    ("沖縄県", "那覇市"),
)


@dataclass(frozen=True)
class Nationality:
    """How residents of one nationality (国籍・地域) are registered: names in the alphabet with
    katakana readings, and the residence statuses (在留資格) they commonly hold."""

    name: str
    family_names: tuple[Name, ...]
    male_names: tuple[Name, ...]
    female_names: tuple[Name, ...]
    statuses: tuple[str, ...]  # the first is the commonest
    alias_families: tuple[str, ...] = ()  # family names of a 通称, where one is common


PERMANENT = ("永住者", "特別永住者")  # no period of stay
WORKING = ("技術・人文知識・国際業務", "技能", "教育", "経営・管理")  # may bring a family (家族滞在)
SINGLE_ONLY = ("留学", "技能実習", "特定技能")  # do not bring a family here

NATIONALITIES: tuple[Nationality, ...] = (
    Nationality(
        "中国",
        (("WANG", "ワン"), ("LI", "リー"), ("ZHANG", "チャン"), ("LIU", "リュウ"), ("CHEN", "チン")),
        (("WEI", "ウェイ"), ("HAO", "ハオ"), ("JIE", "ジエ"), ("YONG", "ヨン")),
        (("FANG", "ファン"), ("XIN", "シン"), ("LING", "リン"), ("MEI", "メイ")),
        ("永住者", "技術・人文知識・国際業務", "留学", "経営・管理"),
    ),
    Nationality(
        "韓国",
        (("KIM", "キム"), ("LEE", "イ"), ("PARK", "パク"), ("CHOI", "チェ")),
        (("MINJUN", "ミンジュン"), ("JIHO", "ジホ"), ("SUNGHO", "ソンホ")),
        (("SEOYEON", "ソヨン"), ("JIMIN", "ジミン"), ("YOUNGHEE", "ヨンヒ")),
        ("特別永住者", "永住者", "技術・人文知識・国際業務"),
        ("金田", "国本", "新井", "松山"),
    ),
    Nationality(
        "ベトナム",
        (("NGUYEN", "グエン"), ("TRAN", "チャン"), ("LE", "レ"), ("PHAM", "ファム")),
        (("VAN NAM", "ヴァン　ナム"), ("DUC MINH", "ドゥック　ミン"), ("VAN HUNG", "ヴァン　フン")),
        (("THI HOA", "ティ　ホア"), ("THI LAN", "ティ　ラン"), ("THU TRANG", "トゥー　チャン")),
        ("技能実習", "特定技能", "留学", "技術・人文知識・国際業務"),
    ),
    Nationality(
        "フィリピン",
        (("SANTOS", "サントス"), ("REYES", "レイエス"), ("CRUZ", "クルス"), ("GARCIA", "ガルシア")),
        (("JOSE", "ホセ"), ("MARK", "マーク"), ("JOHN PAUL", "ジョン　ポール")),
        (("MARIA", "マリア"), ("ANGELICA", "アンジェリカ"), ("JOY", "ジョイ")),
        ("永住者", "定住者", "日本人の配偶者等", "特定技能"),
    ),
    Nationality(
        "ブラジル",
        (("SILVA", "シルヴァ"), ("SOUZA", "ソウザ"), ("OLIVEIRA", "オリヴェイラ")),
        (("LUCAS", "ルーカス"), ("RAFAEL", "ハファエル"), ("PEDRO", "ペドロ")),
        (("ANA", "アナ"), ("JULIANA", "ジュリアナ"), ("CAMILA", "カミラ")),
        ("定住者", "永住者"),
    ),
    Nationality(
        "ネパール",
        (("SHRESTHA", "シュレスタ"), ("GURUNG", "グルン"), ("TAMANG", "タマン")),
        (("RAM", "ラム"), ("BIKASH", "ビカス"), ("SURESH", "スレス")),
        (("SITA", "シタ"), ("ANJALI", "アンジャリ"), ("SABINA", "サビナ")),
        ("留学", "技能", "技術・人文知識・国際業務"),
    ),
    Nationality(
        "アメリカ合衆国",
        (("SMITH", "スミス"), ("JOHNSON", "ジョンソン"), ("BROWN", "ブラウン")),
        (("JOHN", "ジョン"), ("MICHAEL", "マイケル"), ("DAVID", "デイビッド")),
        (("EMILY", "エミリー"), ("SARAH", "サラ"), ("JESSICA", "ジェシカ")),
        ("技術・人文知識・国際業務", "教育", "永住者"),
    ),
)
NATIONALITY_WEIGHTS = (30, 18, 20, 11, 8, 7, 6)  # roughly the shares among foreign residents
