"""Language identification: NTREX accuracy per language, the seeds, code normalisation, mixing."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dedup.langid import UND, char_mass, detect, detect_blocks, dominant, fits, profile

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fixtures" / "seeds"
NTREX = ROOT.parent / "shared" / "data" / "ntrex128-dev" / "articles_15lang.jsonl"
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


@pytest.mark.skipif(not NTREX.exists(), reason="shared data not present")
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


@pytest.mark.skipif(not NTREX.exists(), reason="shared data not present")
def test_ntrex_dominant_on_sentences() -> None:
    """`dominant` over the sentence blocks of an article finds its language."""
    from dedup.clean import split_sentences

    rows = read_jsonl(NTREX)
    wrong = [r["id"] for r in rows[::7] if dominant(split_sentences(r["text"])) != r["lang"]]
    assert len(wrong) <= 2, wrong


def seed_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def test_seed_languages() -> None:
    expected = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))["languages"]
    texts = seed_texts()
    assert set(texts) == set(expected)
    for name, text in texts.items():
        assert detect(text) == expected[name], name
        lines = [x for x in text.splitlines() if x.strip()]
        assert dominant(lines) == expected[name], name


def test_dominant_weighs_by_characters() -> None:
    lines = [x for x in seed_texts()["000_134a85180f117a65"].splitlines() if x.strip()]
    paragraphs, headlines = lines[:3], lines[13:]
    blocks = paragraphs + headlines
    langs = detect_blocks(blocks)
    # the Vietnamese headlines outnumber the English paragraphs four to one but weigh less
    assert langs.count("vi") == 12 and langs.count("en") == 3
    assert dominant(blocks) == "en"


def test_blank_and_symbols_are_undetermined() -> None:
    for text in ["", "   ", "\n\t", "12345 67", "!!! ??? ...", "14:24 08/06/2025", "👍👍"]:
        assert detect(text) == UND
    assert dominant([]) == UND
    assert dominant(["", "123"]) == UND
    assert detect_blocks([]) == []
    assert detect_blocks(["", "Det här är en mening på svenska om vädret i dag."]) == [UND, "sv"]


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
