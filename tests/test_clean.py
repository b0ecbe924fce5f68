"""Boilerplate removal on the seed pages, synthetic pages, clean corpora, HTML and sentences."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.clean import Cleaned, clean_html, clean_text, split_sentences

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fixtures" / "seeds"
DATA = ROOT / "benchmarks" / "data"  # the NTREX and FLORES sets, copied from ../shared/data
NTREX = DATA / "ntrex128-dev" / "articles_15lang.jsonl"
FLORES = DATA / "flores200-devtest" / "articles_6lang.jsonl"

S000 = "000_134a85180f117a65"
S001 = "001_33010cc912393b4e"
S002 = "002_dfa3018c3e278f59"
S003 = "003_3bd0c4ca5729153d"
S004 = "004_573752eaa8a324fc"


def seed(name: str) -> str:
    return (SEEDS / f"{name}.txt").read_text(encoding="utf-8")


def norm(text: str) -> str:
    """Whitespace normalisation, as clean_text does it."""
    for c in ("\u00ad", "\u200b", "\u2060", "\ufeff"):
        text = text.replace(c, "")
    return " ".join(text.split())


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# --------------------------------------------------------------------------------------------
# the five seed pages: (first body sentence, last body sentence, lines that must go, title)
# --------------------------------------------------------------------------------------------

SEED_CASES = {
    S000: (
        "HÀ NỘI — Politburo member, Permanent member of the Communist Party of Việt Nam (CPV)",
        "including forums of political parties.",
        [
            "(责任编辑:Thể thao)",
            "Thiên Khôi mang không khí Tết đến Asian Kids Fashion Week",
            "Phường An Thạnh (Tp.Thuận An): Trao 100 phần quà cho hộ nghèo",
            "Uống bia không cồn lái xe liệu có bị 'dính' khi CSGT kiểm tra?",
            "Thế giới 24h: Việt Nam nhận tàu ngầm 'hố đen'",
            "Phát động Ngày cao điểm chiến sĩ tình nguyện vì văn minh đô thị",
        ],
        None,
    ),
    S001: (
        "At the meeting, Comrade Nguyen Xuan Thang highly appreciated the significance",
        "share information and closely coordinate at international and regional forums.",
        [
            "Vietnam.vn - Nền tảng quảng bá Việt Nam",
            "Báo Quân đội Nhân dânBáo Quân đội Nhân dân28/03/2023",
            "Comment (0)",
            "No data",
            "Same category",
            "Village hidden in the valley in Thanh Hoa attracts tourists to experience",
            "Ho Chi Minh City cuisine tells stories of the streets",
            "Thanh Hoa coastal wooden bridge causes a stir thanks to its beautiful sunset view",
            "No videos available",
            "Political System",
        ],
        "Cooperation between the Communist Party of Vietnam and the Communist Party of Japan",
    ),
    S002: (
        "Besöket äger därför rum mot bakgrund av att relationerna mellan Vietnam och Japan",
        "för fred, samarbete och utveckling i regionen och världen.",
        [
            "(Foto: Nguyen Tuyen/VNA)",
            "arbetar i Wakayama-provinsen. (Foto: Xuan Giao/VNA)",
            "(Foto: Pham Tuan/VNA)",
            "Källa",
            "Kommentar (0)",
        ],
        None,
    ),
    S003: (
        "Tại Trụ sở Trung ương Đảng, Ủy viên Bộ Chính trị, Thường trực Ban Bí thư Trương Thị Mai",
        "phối hợp trên các vấn đề quốc tế, trong đó có các diễn đàn của các chính đảng.",
        [
            "Thứ Tư, ngày 27/12/2023 | 10:17",
            "Viết bình luận mới",
            "Xem thêm",
            "Thủ tướng Phạm Minh Chính hội kiến Chủ tịch Quốc hội Estonia",
            "14:24 08/06/2025",
            "Trong khuôn khổ chuyến thăm chính thức Cộng hòa Estonia",
            "Bộ trưởng Việt Nam và Hoa Kỳ đàm phán Hiệp định song phương",
            "Theo phóng viên TTXVN tại Pháp",
            "Doanh nghiệp Nhật Bản nên sớm đầu tư vào lĩnh vực bán dẫn tại Việt Nam",
            "THÔNG TIN CẦN BIẾT",
            "Nhiều mây, có mưa, có nơi mưa vừa",
            "Tập trung nguồn lực triển khai bệnh án điện tử",
            "(HG) - Ban Thường vụ Liên đoàn Lao động tỉnh",
            "Những năm qua, công tác trợ giúp pháp lý (TGPL)",
        ],
        "Thúc đẩy quan hệ hợp tác giữa hai nước Việt Nam - Nhật Bản",
    ),
    S004: (
        "Chiều 26-12, tại trụ sở Trung ương Đảng, Tổng Bí thư Nguyễn Phú Trọng đã tiếp",
        "đã có cuộc tọa đàm với đồng chí Shii Kazuo và đoàn đại biểu Đảng Cộng sản Nhật Bản.",
        [
            "Theo dõi Báo Gia Lai trên Google News",
            "Ảnh: TRÍ DŨNG – TTXVN",
            "Có thể bạn quan tâm",
            "Quang cảnh buổi làm việc giữa Công an tỉnh Gia Lai",
            "Công an Gia Lai và các tỉnh Ratanakiri, Stung Treng trao đổi tình hình",
            "(GLO)- Chiều 23-10, tại khách sạn Hải Âu",
            "Các nữ CCB chia sẻ hành trình chiến đấu",
            "Nữ cựu chiến binh Gia Lai: Từ ký ức hào hùng",
            "(GLO)-Mang trong tim ký ức hào hùng",
            "null",
        ],
        "Đảng Cộng sản Việt Nam và Đảng Cộng sản Nhật Bản khẳng định truyền thống đoàn kết, hữu nghị",
    ),
}


@pytest.mark.parametrize("name", sorted(SEED_CASES))
def test_seed_keeps_article_and_drops_furniture(name: str) -> None:
    first, last, gone, title = SEED_CASES[name]
    raw = seed(name)
    c = clean_text(raw)
    print(f"{name}: original {len(raw)} chars, cleaned {len(c.text)} chars, title {c.title!r}")
    assert c.lead.startswith(first)
    assert c.text.rstrip().endswith(last) or c.text.rstrip().endswith(last + " — VNS")
    assert last in c.paragraphs[-1]
    for line in gone:
        assert line not in c.text, f"furniture kept: {line!r}"
        assert line not in c.paragraphs
    # every dropped line is accounted for in `removed` (or is the title)
    kept = set(c.paragraphs) | {c.title}
    for line in raw.splitlines():
        if line.strip():
            assert norm(line) in kept or norm(line) in c.removed
    assert c.title == title


def test_seed_body_sizes_and_canonical_order() -> None:
    sizes = {}
    for name in sorted(SEED_CASES):
        raw = seed(name)
        c = clean_text(raw)
        sizes[name] = len(c.text)
        print(f"{name}: len(original)={len(raw)} len(cleaned.text)={len(c.text)}")
    # the longest cleaned text is the canonical one: the Vietnamese report is the fuller version
    assert sizes[S003] > sizes[S000]
    # 003 keeps its whole body (4.2k characters), 000 drops its Vietnamese headline list
    assert sizes[S003] > 4000
    assert sizes[S000] < 3300


def test_seed_languages_reported() -> None:
    expected = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))["languages"]
    for name, lang in expected.items():
        assert clean_text(seed(name)).lang == lang


def test_seed_003_related_list_entirely_removed() -> None:
    raw = seed(S003)
    c = clean_text(raw)
    tail = raw[raw.index("Xem thêm") :]
    for line in tail.splitlines():
        if line.strip():
            assert norm(line) not in c.paragraphs


def test_seed_000_headline_list_after_vns_removed() -> None:
    raw = seed(S000)
    c = clean_text(raw)
    tail = raw[raw.index("— VNS") + len("— VNS") :]
    assert len([x for x in tail.splitlines() if x.strip()]) == 13
    for line in tail.splitlines():
        if line.strip():
            assert norm(line) in c.removed


def test_seed_001_same_category_list_removed() -> None:
    raw = seed(S001)
    c = clean_text(raw)
    tail = raw[raw.index("News and photos") :]
    for line in tail.splitlines():
        if line.strip():
            assert norm(line) not in c.paragraphs


def test_seed_004_list_after_co_the_ban_quan_tam_removed() -> None:
    raw = seed(S004)
    c = clean_text(raw)
    tail = raw[raw.index("Có thể bạn quan tâm") :]
    for line in tail.splitlines():
        if line.strip():
            assert norm(line) in c.removed
    # the repeated photo caption is gone, the lead above it is kept
    assert "Ảnh:" not in c.text
    assert c.lead.startswith("Chiều 26-12")


def test_given_title_is_not_a_paragraph() -> None:
    raw = seed(S003)
    c = clean_text(raw, title="Thúc đẩy quan hệ hợp tác giữa hai nước Việt Nam - Nhật Bản")
    assert c.title == "Thúc đẩy quan hệ hợp tác giữa hai nước Việt Nam - Nhật Bản"
    assert c.title not in c.paragraphs
    page = "A short title\nThe first sentence of the article is here. It goes on for a while."
    c = clean_text(page, title="A short title")
    assert c.paragraphs == ("The first sentence of the article is here. It goes on for a while.",)


# --------------------------------------------------------------------------------------------
# clean texts come out unchanged
# --------------------------------------------------------------------------------------------

ONE_PARAGRAPH = [
    "Dr. Ehud Ur, professor of medicine at Dalhousie University in Halifax, Nova Scotia, "
    "cautioned that the research is still in its early days. Like some other experts, he is "
    "skeptical about whether diabetes can be cured.",
    "龙目岛地震过后，例如国外的非政府组织被告知无需其帮助。尽管龙目岛的10%人口已经撤离，"
    "对外宣布国难是促成国际援助的前提条件，但该国并未这样做。",
    "ควันหลงจากแผ่นดินไหวที่ Lombok ตัวอย่างเช่น องค์กรเอกชนต่างชาติถูกบอกกล่าวว่าพวกเขาไม่เป็นที่ต้องการ",
    "Short.",
    "14:24 08/06/2025",
    "Comment (0)",
]


@pytest.mark.parametrize("text", ONE_PARAGRAPH)
def test_single_paragraph_unchanged(text: str) -> None:
    c = clean_text("  " + text + "\n\n")
    assert c.text == norm(text)
    assert c.removed == ()


@pytest.mark.skipif(
    not (NTREX.exists() and FLORES.exists()), reason="benchmarks/data NTREX/FLORES files not present"
)
def test_ntrex_and_flores_documents_unchanged() -> None:
    rows = read_jsonl(NTREX) + read_jsonl(FLORES)
    assert len(rows) > 2000
    for r in rows:
        c = clean_text(r["text"])
        assert c.text == norm(r["text"]), r["id"]


@pytest.mark.skipif(not NTREX.exists(), reason="benchmarks/data NTREX file not present")
def test_ntrex_paragraph_pages_keep_nearly_everything() -> None:
    """Title line + paragraphs of 1-3 sentences, no boilerplate: nearly all text is kept."""
    rng = random.Random(0)
    kept: dict[str, list[float]] = {}
    titles: dict[str, int] = {}
    for r in read_jsonl(NTREX):
        sents = split_sentences(r["text"])
        paras, i = [], 0
        while i < len(sents):
            k = rng.randint(1, 3)
            paras.append(" ".join(sents[i : i + k]))
            i += k
        body = "\n".join(paras)
        c = clean_text(r["title"] + "\n" + body)
        share = min(len(c.text), len(body)) / len(body)
        assert share >= 0.8, (r["id"], c.removed)
        kept.setdefault(r["lang"], []).append(share)
        titles[r["lang"]] = titles.get(r["lang"], 0) + (c.title == norm(r["title"]))
    for lang, shares in kept.items():
        assert sum(shares) / len(shares) >= 0.98, lang
        assert titles[lang] >= 0.75 * len(shares), lang


# --------------------------------------------------------------------------------------------
# a synthetic page: English article in Vietnamese furniture
# --------------------------------------------------------------------------------------------

ARTICLE = [
    "HUẾ — Flood waters began to recede on Tuesday across central Viet Nam after a week of "
    "record rain that forced more than 40,000 people from their homes, officials said.",
    "The national disaster agency said water levels on the Hương River had fallen by two metres "
    "since Sunday, and most roads into the city had reopened by the afternoon.",
    "Rescue teams are still searching for three fishermen missing off the coast of Quảng Trị "
    "province, where waves of up to five metres were reported over the weekend.",
    "Authorities have pledged emergency funds to repair schools and clinics damaged by the "
    "floods, and the army has sent engineers to clear landslides on the main highway.",
]
FURNITURE_HEAD = [
    "Trang chủ > Thời sự > Xã hội",
    "Đăng nhập",
    "Floods: water recedes in central Viet Nam",
    "Thứ Ba, 08/06/2025 14:24 (GMT+7)",
    "Share | Tweet | Email",
]
CAPTION = "Residents wade through a flooded street in Huế. (Photo: Nguyen Van A/VNA)"
FURNITURE_TAIL = [
    "Chia sẻ",
    "Bình luận (0)",
    "Tin liên quan",
    "Thủ tướng Phạm Minh Chính hội kiến Chủ tịch Quốc hội Estonia",
    "14:24 08/06/2025",
    "Trong khuôn khổ chuyến thăm chính thức Cộng hòa Estonia, Thủ tướng Chính phủ Phạm Minh "
    "Chính đã có cuộc hội kiến Chủ tịch Quốc hội Estonia Lauri Hussar tại trụ sở Quốc hội.",
    "Bộ trưởng Việt Nam và Hoa Kỳ đàm phán Hiệp định song phương về thương mại đối ứng",
    "08:10 06/06/2025",
    "Theo phóng viên TTXVN tại Pháp, phiên đàm phán cấp Bộ trưởng giữa hai bên đã diễn ra trong "
    "không khí cởi mở, thẳng thắn và xây dựng, với nhiều kết quả tích cực cho cả hai nước.",
    "Đoàn đại biểu Đảng Cộng sản Việt Nam thăm và làm việc tại Sri Lanka",
    "05:39 04/06/2025",
    "Từ ngày 1 đến 4-6, đoàn đại biểu Đảng Cộng sản Việt Nam do Ủy viên Bộ Chính trị, Bí thư "
    "Trung ương Đảng dẫn đầu đã thăm, làm việc tại Sri Lanka theo lời mời của nước bạn.",
    "Đọc nhiều nhất",
    "Giá vàng hôm nay tăng mạnh",
    "Lịch cúp điện Hà Nội ngày mai",
    "Kết quả xổ số miền Bắc",
    "Thời tiết cuối tuần",
    "© 2025 Báo Điện tử. All rights reserved.",
]


def synthetic_page() -> str:
    body = [ARTICLE[0], CAPTION, *ARTICLE[1:3], "Advertisement", ARTICLE[3]]
    return "\n\n".join([*FURNITURE_HEAD, *body, *FURNITURE_TAIL])


def test_synthetic_page_article_kept_furniture_gone() -> None:
    c = clean_text(synthetic_page())
    assert c.paragraphs == tuple(ARTICLE)
    assert c.title == "Floods: water recedes in central Viet Nam"
    assert c.lang == "en"
    for line in [*FURNITURE_HEAD, CAPTION, "Advertisement", *FURNITURE_TAIL]:
        if line != c.title:
            assert line in c.removed, line


def test_teasers_in_the_article_language_are_dropped_too() -> None:
    """Headline / timestamp / full-sentence teaser, repeated: a list even in the same language."""
    teasers = []
    for k in range(4):
        teasers += [
            f"Minister number {k} visits the northern provinces to inspect flood defences",
            f"{10 + k}:0{k} 0{k + 1}/06/2025",
            f"The minister met local officials on day {k} and promised new funds for the dykes "
            "that were damaged during last year's storms, the ministry said in a statement.",
        ]
    page = "\n".join([*ARTICLE, "See more", *teasers])
    c = clean_text(page)
    assert c.paragraphs == tuple(ARTICLE)


def test_everything_furniture_falls_back_to_longest_block() -> None:
    page = "Home\nNews\nSport\nWeather forecast for the whole of next week\nContact"
    c = clean_text(page)
    assert c.paragraphs == ("Weather forecast for the whole of next week",)


def test_blank_input() -> None:
    assert clean_text("") == Cleaned(None, (), ())
    assert clean_text(" \n\t \n").text == ""
    assert clean_text("\u200b").text == "\u200b"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(min_size=0, max_size=80),
            st.sampled_from([*ARTICLE, *FURNITURE_HEAD, *FURNITURE_TAIL, CAPTION, "", "null"]),
        ),
        max_size=25,
    ),
    st.sampled_from(["\n", "\n\n", "\r\n", " "]),
    st.one_of(st.none(), st.text(max_size=30)),
)
def test_never_raises_never_empty(lines: list[str], sep: str, title: str | None) -> None:
    text = sep.join(lines)
    c = clean_text(text, title=title)
    assert isinstance(c, Cleaned)
    if text.strip():
        assert c.text.strip()
    assert all(p.strip() for p in c.paragraphs)


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Flood waters recede in central Viet Nam | Example News</title></head><body>
<header><nav><a href="/">Home</a> › <a href="/world">World</a> › <a href="/asia">Asia</a></nav>
</header><main><article><h1>Flood waters recede in central Viet Nam</h1>
<p class="date">Published 14:24 08/06/2025</p>
<p>{0}</p>
<figure><img src="a.jpg"><figcaption>{caption}</figcaption></figure>
<p>{1}</p><p>{2}</p><p>{3}</p>
<div class="share">Share Facebook Twitter Email</div></article>
<aside><h3>Xem thêm</h3><ul>
<li><a href="/1">Thủ tướng Phạm Minh Chính hội kiến Chủ tịch Quốc hội Estonia</a>
<span>14:24 08/06/2025</span><p>Trong khuôn khổ chuyến thăm chính thức Cộng hòa Estonia, Thủ tướng
Chính phủ Phạm Minh Chính đã có cuộc hội kiến.</p></li>
<li><a href="/2">Bộ trưởng Việt Nam và Hoa Kỳ đàm phán Hiệp định song phương</a>
<span>08:10 06/06/2025</span><p>Theo phóng viên TTXVN tại Pháp, phiên đàm phán cấp Bộ trưởng giữa
hai bên đã diễn ra.</p></li></ul></aside></main>
<footer>© 2025 Example News. All rights reserved.</footer>
<script>var x = "not text";</script></body></html>
""".format(*ARTICLE, caption=CAPTION)


def test_clean_html() -> None:
    c = clean_html(HTML)
    assert c.paragraphs == tuple(ARTICLE)
    assert c.title == "Flood waters recede in central Viet Nam"
    assert "Thủ tướng" not in c.text and "Share" not in c.text and "not text" not in c.text


def test_clean_html_fallback_when_extraction_finds_nothing() -> None:
    c = clean_html("<html><body><div>Hello there, world</div><script>x()</script></body></html>")
    assert c.text == "Hello there, world"
    assert clean_html("").text == ""
    assert clean_html("<p>unclosed <b>tags").text.strip()


# --------------------------------------------------------------------------------------------
# sentences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith went to Washington. He met Dr. Jones at 3.5 p.m. on Monday. "
            "The U.S. Army agreed! Really? Yes.",
            [
                "Mr. Smith went to Washington.",
                "He met Dr. Jones at 3.5 p.m. on Monday.",
                "The U.S. Army agreed!",
                "Really?",
                "Yes.",
            ],
        ),
        (
            'The economy grew 3.5% in 2023. He said "Go now." Then J. K. Rowling left.',
            ["The economy grew 3.5% in 2023.", 'He said "Go now."', "Then J. K. Rowling left."],
        ),
        (
            'Ông Nguyễn Văn A đến TP. Hồ Chí Minh hôm qua. Ông nói: "Tôi rất vui." Sau đó ông về.',
            [
                "Ông Nguyễn Văn A đến TP. Hồ Chí Minh hôm qua.",
                'Ông nói: "Tôi rất vui."',
                "Sau đó ông về.",
            ],
        ),
        (
            "地震造成数百人死亡。救援工作正在进行！政府将提供援助吗？是的。",
            ["地震造成数百人死亡。", "救援工作正在进行！", "政府将提供援助吗？", "是的。"],
        ),
        (
            "東京で地震が発生した。「被害は大きい」と彼は述べた。詳細は不明です。",
            ["東京で地震が発生した。", "「被害は大きい」と彼は述べた。", "詳細は不明です。"],
        ),
        (
            "قال المتحدث إن الوضع خطير. هل هناك أمل؟ نعم، هناك أمل كبير.",
            ["قال المتحدث إن الوضع خطير.", "هل هناك أمل؟", "نعم، هناك أمل كبير."],
        ),
        (
            "Er sagte z.B. nichts. Die Firma bzw. der Konzern zahlt 3,5 Mio. Euro. „Gut.“ Ende.",
            [
                "Er sagte z.B. nichts.",
                "Die Firma bzw. der Konzern zahlt 3,5 Mio. Euro.",
                "„Gut.“",
                "Ende.",
            ],
        ),
        (
            "Il a dit : « Je pars. » Puis il est parti.",
            ["Il a dit : « Je pars. »", "Puis il est parti."],
        ),
        ("1. First item here. 2. Second item.", ["1. First item here.", "2. Second item."]),
        ("One line\nSecond line.", ["One line", "Second line."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_thai() -> None:
    text = (
        "สึนามิและแผ่นดินไหวที่เกาะแห่งหนึ่งของอินโดนีเซีย คร่าชีวิตผู้คนนับร้อย องค์กรเอกชนต่างชาติถูกบอกกล่าวว่าพวกเขาไม่เป็นที่ต้องการ"
    )
    sents = split_sentences(text)
    assert len(sents) >= 2
    assert " ".join(sents) == text
    assert all(len(s) >= 10 for s in sents)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_split_sentences_keeps_the_words(text: str) -> None:
    sents = split_sentences(text)
    assert (
        " ".join(sents).split()
        == " ".join(line for line in (norm(x) for x in text.splitlines()) if line).split()
    )


def test_site_header_is_not_a_title() -> None:
    """Above a breadcrumb is the site's header; a title shared by pages with different texts too."""
    from dedup.clean import site_titles

    page = "\n".join(
        [
            "The Daily Courier - Independent news since 1921",
            "Home > World > Asia",
            "Floods recede in Hue",
            "2018-09-30 11:56 GMT+7",
            *ARTICLE,
        ]
    )
    assert clean_text(page).title == "Floods recede in Hue"
    a, b, c = (Cleaned("Site News", (f"Text {k}.",), (), "en") for k in range(3))
    copies = [Cleaned("Same report", ("One text.",), (), "en")] * 3
    assert site_titles([a, b, c, *copies]) == frozenset({"Site News"})


def _outlet_page(k: int, headline: str, dateline: str = "30/09/2018 15:27") -> str:
    lead = f"Story number {k} begins here, and the reporter explains at some length what happened in town."
    body = f"A second paragraph of story {k} adds the details that a real report would carry, with quotes."
    return "\n".join(["World Wire - Breaking news, analysis and video", headline, dateline, lead, body])


def test_site_banner_gives_way_to_the_headline() -> None:
    """A banner as long as the headline is picked on one page; across pages it is the site's."""
    from dedup.clean import page_titles

    heads = [
        "Mexico vows to keep troops off the streets",
        "Quake toll rises above eight hundred",
        "Central bank holds rates for a third month",
    ]
    cleaned = [clean_text(_outlet_page(k, h)) for k, h in enumerate(heads)]
    assert cleaned[0].title == "World Wire - Breaking news, analysis and video"
    assert page_titles(cleaned) == heads


def test_headline_with_a_full_stop_above_its_date_line() -> None:
    page = _outlet_page(0, "Indonesia tsunami toll soars above 800.")
    assert clean_text(page).title == "Indonesia tsunami toll soars above 800."
    glued = _outlet_page(0, "Tsunami toll soars above 800.", "World WireWorld Wire29/09/2018")
    c = clean_text(glued)
    assert c.title == "Tsunami toll soars above 800."
    assert c.paragraphs[0].startswith("Story number 0")
    # a short sentence above the text with no date line below it stays text
    assert clean_text("\n".join(["It was bad.", *ARTICLE])).title is None


# --------------------------------------------------------------------------------------------
# the language reported: the page language, or the kept text's when the page is all lists
# --------------------------------------------------------------------------------------------

ZH_ARTICLE = (
    "萨默塞特郡（Somerset） 一 16 岁少年被捅伤，三名十几岁男孩和一名 20 岁男子涉嫌谋杀未遂被捕。"
    "周六 04:00 BST左右，在米德索莫诺顿的一条街道上，警方接到报警。"
    "警方表示，受害者被送往医院治疗，伤势严重但没有生命危险，调查仍在进行之中。"
)
EN_RECORDS = [
    (
        "Indonesia Tsunami and Quake Devastate an Island, Killing Hundreds",
        "In the aftermath of the Lombok earthquake, foreign nongovernmental organizations were told they "
        "were not needed, even though more than 10 percent of the island's population had been dislocated.",
    ),
    (
        "Watch: Liverpool's Daniel Sturridge dips deep equalizer vs. Chelsea",
        "Daniel Sturridge saved Liverpool from a Premier League loss to Chelsea with a score in the 89th "
        "minute on Saturday at Stamford Bridge in London, from a pass by Xherdan Shaqiri.",
    ),
    (
        "Death toll from Indonesia tsunami rises to 832",
        "The death toll in Indonesia's earthquake and tsunami has climbed to 832, the country's disaster "
        "agency said early Sunday, and many people were reported trapped in the rubble of buildings.",
    ),
    (
        "Police arrest man, 32, on suspicion of murder after woman is stabbed to death",
        "A murder investigation has been launched after a woman's body was found in Birkenhead this "
        "morning, and a 32-year-old man has been arrested on suspicion of murder.",
    ),
    (
        "Parliament's statue of Cromwell becomes latest memorial hit by 'rewriting history' row",
        "The Cromwell Society described the suggestion as folly and an attempt to rewrite history, "
        "while its critics said the statue should be moved away from the Houses of Parliament.",
    ),
    (
        "Killer Pig Mauls Chinese Farmer to Death",
        "A farmer was attacked and killed by a pig in a market in southwest China, according to local "
        "media reports, and was found dead with a severed artery near a sty at the market.",
    ),
    (
        "Hurricane Rosa's remnants to bring widespread heavy rain to southwest US",
        "As forecast, Hurricane Rosa is weakening as it moves over the cooler waters of the northern "
        "coast of Mexico, but it will bring flooding rains across northern Mexico and the US southwest.",
    ),
    (
        "British PM May accuses critics of 'playing politics' over Brexit",
        "Prime Minister Theresa May accused critics of her plans to leave the European Union of playing "
        "politics with Britain's future in an interview with the Sunday Times newspaper.",
    ),
]


def test_page_of_lists_reports_the_language_of_the_text_kept() -> None:
    """Article, caption and a long related list chained into one list: no text block is left to
    read the page language from, so the heaviest blocks (English teasers) outvote the article,
    and the reported language is that of the text kept, as `detect` finds it."""
    from dedup.langid import detect

    lines = [
        "米德索莫诺顿（Midsomer Norton） 袭击事件:四次谋杀未遂犯被捕",
        "30/09/2018 | 20:08",
        ZH_ARTICLE,
        "周六 04:00 BST左右. (图片: Olga Ivanova/Antara)",
        "警方已呼吁手机拍下了事发视频的各方人士提供线索。",
        "查看更多",
    ]
    for k, (head, teaser) in enumerate(EN_RECORDS):
        lines += [head, f"1{k}:3{k} 0{k + 1}/03/2023", teaser]
    lines += [
        "Đọc nhiều",
        "1. Londonderry: Những người đàn ông bị bắt giữ khi tông xe vào nhà",
        "2. Lễ hội Công dân Toàn cầu là gì và có đóng góp gì cho việc Xóa đói Giảm nghèo hay không?",
        "Tin tức",
        "Thế giới",
        "© 2025 Báo Thời Sự. Bản quyền thuộc về Báo Thời Sự.",
    ]
    c = clean_text("\n\n".join(lines))
    assert c.paragraphs == (ZH_ARTICLE,)
    assert c.lang == "zh" == detect(c.text)


def test_published_and_updated_lines_are_one_dateline_not_a_list_of_records() -> None:
    # ECB+ ecb.1_11ecbplus's shape: headline, lead, two date lines, body. Two adjacent date lines
    # used to read as a list of related headlines with their timestamps, and the lead and the first
    # body paragraph were dropped as its records (18% of the text kept).
    lead = (
        "Actress Lindsay Lohan finally checked into court-mandated rehab at the Betty Ford Center late "
        "Thursday, after hiring former lawyer Shawn Holley for help."
    )
    body = (
        "Lindsay Lohan checked into California's Betty Ford Center rehab facility late Thursday, dodging "
        "arrest after whirlwind confusion surrounding the actress' whereabouts, sources told the Daily News."
    )
    tail = (
        "It's the same place the troubled starlet sought help in 2010, where she got into a physical "
        "altercation with a staffer. Her lawyer said she would stay for the full ninety days."
    )
    raw = "\n".join(
        [
            "Lindsay Lohan checks into rehab at Betty Ford Center, rehires longtime lawyer Shawn Holley",
            lead,
            "PUBLISHED: THURSDAY, MAY 2, 2013, 1: 32 PM",
            "UPDATED: FRIDAY, MAY 3, 2013, 9: 56 AM",
            body,
            tail,
        ]
    )
    text = clean_text(raw).text
    assert lead in text and body in text and tail in text
    assert "PUBLISHED" not in text
