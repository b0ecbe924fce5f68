"""Language identification: NTREX accuracy per language, the seeds, code normalisation, the page
language found while cleaning (and that it equals the detection of the cleaned text)."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dedup.clean import clean_text
from dedup.langid import UND, char_mass, detect, profile

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fixtures" / "seeds"
NTREX = ROOT / "benchmarks" / "data" / "ntrex128-dev" / "articles_15lang.jsonl"  # copied from ../shared/data
NTREX_LANGS = [
    "en",
    "vi",
    "sv",
    "de",
    "fr",
    "es",
    "ru",
    "zh",
    "ar",
    "ja",
    "nb",
    "da",
    "fi",
    "th",
    "id",
]


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.skipif(not NTREX.exists(), reason="benchmarks/data NTREX file not present")
def test_ntrex_accuracy_per_language() -> None:
    rows = read_jsonl(NTREX)
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    for r in rows:
        got = detect(r["text"])
        total[r["lang"]] += 1
        right[r["lang"]] += got == r["lang"]
        if got != r["lang"]:
            confusions[(r["lang"], got)] += 1
    assert set(total) == set(NTREX_LANGS)
    report = {lang: right[lang] / total[lang] for lang in NTREX_LANGS}
    print("NTREX accuracy per language:", report, "confusions:", dict(confusions))
    for lang, acc in report.items():
        assert acc >= 0.9, (lang, acc, confusions)


@pytest.mark.skipif(not NTREX.exists(), reason="benchmarks/data NTREX file not present")
def test_ntrex_page_language_is_the_detected_language() -> None:
    """The page language found while cleaning is the article's language and the one `detect`
    finds in the cleaned text, so the pipeline need not detect it again."""
    for r in read_jsonl(NTREX):
        c = clean_text(r["text"], r["title"])
        assert c.lang == r["lang"] == detect(c.text[:5000]), r["id"]


def seed_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def test_seed_languages() -> None:
    expected = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))["languages"]
    texts = seed_texts()
    assert set(texts) == set(expected)
    for name, text in texts.items():
        assert detect(text) == expected[name], name
        c = clean_text(text)
        assert c.lang == expected[name] == detect(c.text[:5000]), name


def test_page_language_is_read_from_the_text_not_the_headlines() -> None:
    lines = [x for x in seed_texts()["000_134a85180f117a65"].splitlines() if x.strip()]
    paragraphs, headlines = lines[:3], lines[13:]
    blocks = paragraphs + headlines
    langs = [detect(b) for b in blocks]
    # the Vietnamese headlines outnumber the English paragraphs four to one but are not text
    assert langs.count("vi") == 12 and langs.count("en") == 3
    assert clean_text("\n".join(blocks)).lang == "en"


def test_blank_and_symbols_are_undetermined() -> None:
    for text in ["", "   ", "\n\t", "12345 67", "!!! ??? ...", "14:24 08/06/2025", "👍👍"]:
        assert detect(text) == UND
        assert profile(text).best == UND
    assert detect("Det här är en mening på svenska om vädret i dag.") == "sv"


def test_codes_are_normalised() -> None:
    # py3langid says "no" for Norwegian: it is reported as Bokmål, "nb"
    text = "Regjeringen vil legge frem et nytt forslag om skatt på boliger i løpet av høsten."
    assert detect(text) == "nb"
    # every code is ISO 639-1 (two letters) for these major languages
    samples = {
        "zh": "北京时间昨天，地震造成数百人死亡，救援工作正在进行。",
        "ja": "東京で地震が発生し、多くの建物が被害を受けたと政府が発表した。",
        "ar": "قال المتحدث إن الوضع خطير وإن المساعدات ستصل قريبا إلى المناطق المتضررة.",
        "ru": "Президент заявил, что правительство выделит средства на восстановление.",
        "th": "นายกรัฐมนตรีกล่าวว่ารัฐบาลจะให้ความช่วยเหลือแก่ผู้ประสบภัยน้ำท่วม",
    }
    for lang, text in samples.items():
        assert detect(text) == lang


def test_fits_short_headlines() -> None:
    def fits(text: str, lang: str) -> bool:
        return profile(text).fits(lang)

    assert fits("Elite League: Dundee Stars 5-3 Belfast Giants", "sv")  # names fit any language
    assert fits("Cooperation between the Communist Party of Vietnam and Japan", "en")
    assert not fits("Vietnam.vn - Nền tảng quảng bá Việt Nam", "en")
    assert not fits("Trao tặng nhiều phần quà cho học sinh khó khăn", "en")
    assert fits("", "en") and fits("Anything at all", UND)
    p = profile("Det här är en mening på svenska.")
    assert p.best == "sv" and p.score("sv") is not None and p.score("xx") is None


def test_char_mass_weighs_wide_scripts() -> None:
    assert char_mass("abc") == 3
    assert char_mass("地震") == 6
    assert char_mass("") == 0


def test_thread_safe() -> None:
    texts = [t for t in seed_texts().values()] * 8
    serial = [detect(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(detect, texts))
    assert parallel == serial
