"""The 'page' variant of a labelled set: every article wrapped in web furniture, like real pages.

Real pages (see fixtures/seeds/*.txt) carry much more than the article: a site header, breadcrumbs,
the title, a date line, photo captions between paragraphs, share and comment widgets, blocks of
related headlines with timestamps and teaser sentences (often in another language than the
article), and sidebars that every page of one outlet shares. This module builds such a page for
every article of a set, deterministically (seeded), from the article itself and other articles of
the same corpus:

- each article is assigned to one of five pseudo-outlets by a stable hash of its id; an outlet has a
  name, a home language, a paragraph style, a date format, a breadcrumb separator, a related-block
  style and one fixed sidebar (navigation sections, a "most read" list of five corpus headlines, a
  footer) shared by all its pages;
- the article text is split into sentences and regrouped into paragraphs of 2-4 sentences; 1-2
  photo captions (a clause of the article + "(Photo: NAME/AGENCY)") are inserted between them;
- a related block lists 4-10 other articles (never of the same gold story): headline (their title,
  or the start of a sentence when the set has no titles), a "14:24 08/06/2025" timestamp and the
  first sentence as teaser; 40% of pages take them from articles of another language.

The page keeps the article's id, lang and gold labels; `title` is dropped (it is in the page text,
as on scraped pages). Gold labels are used only to keep a page's related block free of its own
story; nothing else of the gold reaches the page.

    python benchmarks/pages.py benchmarks/data/ntrex128-dev/articles_en_vi_sv.jsonl --show 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

N_OUTLETS = 5
OTHER_LANG_SHARE = 0.4  # share of pages whose related block is in another language

# --------------------------------------------------------------------------- localised furniture

L10N: dict[str, dict[str, str]] = {
    "en": dict(home="Home", world="World", asia="Asia", europe="Europe", news="News",
               politics="Politics", business="Business", sport="Sport", share="Share",
               comments="Comment (0)", write="Write a comment", related="Related",
               same_cat="Same category", more="See more", most_read="Most read", photo="Photo",
               source="Source", read_more="Read more", follow="Follow {o} on Google News",
               rights="All rights reserved.", no_data="No data", by="News and photos: {n}"),
    "vi": dict(home="Trang chủ", world="Thế giới", asia="Châu Á", europe="Châu Âu",
               news="Tin tức", politics="Chính trị", business="Kinh tế", sport="Thể thao",
               share="Chia sẻ", comments="Bình luận (0)", write="Viết bình luận mới",
               related="Tin liên quan", same_cat="Cùng chuyên mục", more="Xem thêm",
               most_read="Đọc nhiều", photo="Ảnh", source="Nguồn", read_more="Đọc thêm",
               follow="Theo dõi {o} trên Google News", rights="Bản quyền thuộc về {o}.",
               no_data="Không có dữ liệu", by="Tin và ảnh: {n}"),
    "sv": dict(home="Hem", world="Världen", asia="Asien", europe="Europa", news="Nyheter",
               politics="Politik", business="Ekonomi", sport="Sport", share="Dela",
               comments="Kommentar (0)", write="Skriv en kommentar", related="Relaterat",
               same_cat="Samma kategori", more="Visa fler", most_read="Mest läst", photo="Foto",
               source="Källa", read_more="Läs mer", follow="Följ {o} på Google News",
               rights="Alla rättigheter förbehållna.", no_data="Ingen data",
               by="Text och bild: {n}"),
    "de": dict(home="Startseite", world="Welt", asia="Asien", europe="Europa",
               news="Nachrichten", politics="Politik", business="Wirtschaft", sport="Sport",
               share="Teilen", comments="Kommentare (0)", write="Kommentar schreiben",
               related="Mehr zum Thema", same_cat="Aus dem Ressort", more="Mehr anzeigen",
               most_read="Meistgelesen", photo="Foto", source="Quelle", read_more="Weiterlesen",
               follow="Folgen Sie {o} auf Google News", rights="Alle Rechte vorbehalten.",
               no_data="Keine Daten", by="Text und Fotos: {n}"),
    "fr": dict(home="Accueil", world="Monde", asia="Asie", europe="Europe", news="Actualités",
               politics="Politique", business="Économie", sport="Sport", share="Partager",
               comments="Commentaires (0)", write="Écrire un commentaire", related="À lire aussi",
               same_cat="Dans la même rubrique", more="Voir plus", most_read="Les plus lus",
               photo="Photo", source="Source", read_more="Lire la suite",
               follow="Suivez {o} sur Google Actualités", rights="Tous droits réservés.",
               no_data="Aucune donnée", by="Texte et photos : {n}"),
    "es": dict(home="Inicio", world="Mundo", asia="Asia", europe="Europa", news="Noticias",
               politics="Política", business="Economía", sport="Deportes", share="Compartir",
               comments="Comentarios (0)", write="Escribe un comentario", related="Relacionadas",
               same_cat="Misma categoría", more="Ver más", most_read="Lo más leído",
               photo="Foto", source="Fuente", read_more="Leer más",
               follow="Sigue a {o} en Google News", rights="Todos los derechos reservados.",
               no_data="Sin datos", by="Texto y fotos: {n}"),
    "ru": dict(home="Главная", world="В мире", asia="Азия", europe="Европа", news="Новости",
               politics="Политика", business="Экономика", sport="Спорт", share="Поделиться",
               comments="Комментарии (0)", write="Написать комментарий",
               related="Читайте также", same_cat="В этой рубрике", more="Показать ещё",
               most_read="Самое читаемое", photo="Фото", source="Источник",
               read_more="Подробнее", follow="Подписывайтесь на {o} в Google Новостях",
               rights="Все права защищены.", no_data="Нет данных", by="Текст и фото: {n}"),
    "zh": dict(home="首页", world="国际", asia="亚洲", europe="欧洲", news="新闻", politics="政治",
               business="财经", sport="体育", share="分享", comments="评论 (0)", write="发表评论",
               related="相关新闻", same_cat="同类文章", more="查看更多", most_read="热门阅读",
               photo="图片", source="来源", read_more="阅读全文", follow="在Google新闻上关注{o}",
               rights="版权所有", no_data="暂无数据", by="(责任编辑:{n})"),
    "ar": dict(home="الرئيسية", world="العالم", asia="آسيا", europe="أوروبا", news="أخبار",
               politics="سياسة", business="اقتصاد", sport="رياضة", share="مشاركة",
               comments="تعليقات (0)", write="اكتب تعليقا", related="أخبار ذات صلة",
               same_cat="من نفس القسم", more="المزيد", most_read="الأكثر قراءة", photo="صورة",
               source="المصدر", read_more="اقرأ المزيد", follow="تابع {o} على أخبار Google",
               rights="جميع الحقوق محفوظة.", no_data="لا توجد بيانات", by="تحرير: {n}"),
    "ja": dict(home="ホーム", world="国際", asia="アジア", europe="ヨーロッパ", news="ニュース",
               politics="政治", business="経済", sport="スポーツ", share="シェア",
               comments="コメント (0)", write="コメントを書く", related="関連記事",
               same_cat="同じカテゴリー", more="もっと見る", most_read="よく読まれている記事",
               photo="写真", source="出典", read_more="続きを読む",
               follow="Googleニュースで{o}をフォロー", rights="無断転載を禁じます。",
               no_data="データがありません", by="文・写真：{n}"),
    "nb": dict(home="Forside", world="Verden", asia="Asia", europe="Europa", news="Nyheter",
               politics="Politikk", business="Økonomi", sport="Sport", share="Del",
               comments="Kommentarer (0)", write="Skriv en kommentar",
               related="Relaterte saker", same_cat="Samme kategori", more="Vis flere",
               most_read="Mest lest", photo="Foto", source="Kilde", read_more="Les mer",
               follow="Følg {o} på Google Nyheter", rights="Alle rettigheter reservert.",
               no_data="Ingen data", by="Tekst og foto: {n}"),
    "da": dict(home="Forside", world="Udland", asia="Asien", europe="Europa", news="Nyheder",
               politics="Politik", business="Erhverv", sport="Sport", share="Del",
               comments="Kommentarer (0)", write="Skriv en kommentar",
               related="Relaterede artikler", same_cat="Samme kategori", more="Se flere",
               most_read="Mest læste", photo="Foto", source="Kilde", read_more="Læs mere",
               follow="Følg {o} på Google News", rights="Alle rettigheder forbeholdes.",
               no_data="Ingen data", by="Tekst og foto: {n}"),
    "fi": dict(home="Etusivu", world="Ulkomaat", asia="Aasia", europe="Eurooppa",
               news="Uutiset", politics="Politiikka", business="Talous", sport="Urheilu",
               share="Jaa", comments="Kommentit (0)", write="Kirjoita kommentti",
               related="Aiheeseen liittyvät", same_cat="Samasta aiheesta", more="Näytä lisää",
               most_read="Luetuimmat", photo="Kuva", source="Lähde", read_more="Lue lisää",
               follow="Seuraa {o} Google Uutisissa", rights="Kaikki oikeudet pidätetään.",
               no_data="Ei tietoja", by="Teksti ja kuvat: {n}"),
    "th": dict(home="หน้าแรก", world="ต่างประเทศ", asia="เอเชีย", europe="ยุโรป", news="ข่าว",
               politics="การเมือง", business="เศรษฐกิจ", sport="กีฬา", share="แชร์",
               comments="ความคิดเห็น (0)", write="แสดงความคิดเห็น", related="ข่าวที่เกี่ยวข้อง",
               same_cat="หมวดเดียวกัน", more="ดูเพิ่มเติม", most_read="ยอดนิยม", photo="ภาพ",
               source="ที่มา", read_more="อ่านต่อ", follow="ติดตาม {o} บน Google News",
               rights="สงวนลิขสิทธิ์", no_data="ไม่มีข้อมูล", by="ข่าวและภาพ: {n}"),
    "id": dict(home="Beranda", world="Dunia", asia="Asia", europe="Eropa", news="Berita",
               politics="Politik", business="Ekonomi", sport="Olahraga", share="Bagikan",
               comments="Komentar (0)", write="Tulis komentar", related="Berita Terkait",
               same_cat="Kategori yang sama", more="Lihat lainnya", most_read="Terpopuler",
               photo="Foto", source="Sumber", read_more="Baca selengkapnya",
               follow="Ikuti {o} di Google News", rights="Hak cipta dilindungi.",
               no_data="Tidak ada data", by="Berita dan foto: {n}"),
}

PHOTOGRAPHERS = [
    "Nguyen Tuyen", "Tri Dung", "Pham Tuan", "Xuan Giao", "Thuy Linh", "Anna Lindqvist",
    "Erik Holm", "John Smith", "Maria Garcia", "Jean Dupont", "Lars Berg", "Kenji Sato",
    "Dewi Lestari", "Olga Ivanova", "Ahmed Hassan", "Li Wei",
]
AGENCIES = ["VNA", "TTXVN", "AFP", "Reuters", "AP", "TT", "NTB", "dpa", "EPA", "Getty Images",
            "Xinhua", "Kyodo", "Ritzau", "Lehtikuva", "Antara"]


@dataclass(frozen=True)
class Outlet:
    """A pseudo-outlet: its look is fixed, so all its pages share furniture."""

    name: str
    tagline: str
    home_lang: str
    para_sep: str  # "\n" or "\n\n"
    crumb_sep: str
    date_style: int
    related_style: str  # "full" (headline/time/teaser), "headlines", "caption"
    sidebar_first: bool  # sidebar before the related block
    code: str  # short code used in teasers, like "(GLO)-"


OUTLETS = [
    Outlet("Báo Thời Sự", "Tin tức 24h, đọc báo mới nhất", "vi", "\n\n", " › ", 0, "full",
           False, "TS"),
    Outlet("The Daily Courier", "Independent news since 1921", "en", "\n", " > ", 1, "headlines",
           False, "DC"),
    Outlet("Nyhetsbladet", "Nyheter från Sverige och världen", "sv", "\n", " / ", 2, "full",
           True, "NB"),
    Outlet("World News Network", "Breaking news, analysis and video", "en", "\n\n", " » ", 3,
           "caption", False, "WNN"),
    Outlet("Vietnam Today", "Nền tảng thông tin Việt Nam", "vi", "\n\n", " › ", 4, "full", True,
           "VNT"),
]

# --------------------------------------------------------------------------- text helpers

_SENT_END = re.compile(r"(?<=[.!?…؟])[\"'”’»)]*\s+|(?<=[。！？])\s*")
_ABBREV = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Sgt|Capt|Prof|No|vs|etc|Inc"
    r"|Ltd|Co|Corp|Jan|Feb|Aug|Sept|Oct|Nov|Dec|U\.S|U\.K|U\.N|a\.m|p\.m|ca|bzw|z\.B|St|Nr"
    r"|Hr|Fr|Th|TP|Tp|TS|PGS|GS))\.$"
)
_WIDE = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def stable_int(*parts: object) -> int:
    """A hash that is the same in every process (unlike hash())."""
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big")


def outlet_of(article_id: str) -> int:
    return stable_int("outlet", article_id) % N_OUTLETS


def is_wide_script(text: str) -> bool:
    """True for text mostly in scripts written without spaces between words (zh, ja, th)."""
    letters = [c for c in text[:2000] if c.isalpha()]
    if not letters:
        return False
    return sum(1 for c in letters if _WIDE.match(c)) / len(letters) > 0.3


def split_sentences(text: str) -> list[str]:
    """Rough multilingual sentence split; long unpunctuated runs (Thai) are cut at spaces."""
    out: list[str] = []
    pieces: list[str] = []
    for part in _SENT_END.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        if pieces and _ABBREV.search(pieces[-1]):  # "Mr. Joko", "U.S. ambassador": not an end
            pieces[-1] += " " + part
        else:
            pieces.append(part)
    for part in pieces:
        if len(part) > 400 and " " in part:
            chunk: list[str] = []
            size = 0
            for w in part.split(" "):
                chunk.append(w)
                size += len(w) + 1
                if size > 160:
                    out.append(" ".join(chunk))
                    chunk, size = [], 0
            if chunk:
                out.append(" ".join(chunk))
        else:
            out.append(part)
    return out


def first_sentence(text: str, limit: int = 300) -> str:
    sents = split_sentences(text)
    s = sents[0] if sents else text
    return s if len(s) <= limit else s[:limit].rsplit(" ", 1)[0] + "…"


def headline_of(rec: dict[str, Any]) -> str:
    """The record's title, or (sets without titles) the start of its second sentence."""
    title = (rec.get("title") or "").strip()
    if title:
        return title
    sents = split_sentences(rec["text"]) or [rec["text"]]
    s = sents[1] if len(sents) > 1 else sents[0]
    if is_wide_script(s):
        return s[:40].rstrip("，、。 ")
    words = s.split()
    head = " ".join(words[:10]).rstrip(",;:")
    return head[:1].upper() + head[1:]


def clause_of(sentence: str) -> str:
    """A caption-like clause: up to the first comma, at most 16 words."""
    s = re.split(r"[,;]\s|[，、；]", sentence, maxsplit=1)[0].strip()
    if is_wide_script(s):
        return s[:50]
    words = s.split()
    return " ".join(words[:16]).rstrip(".")


def loc(lang: str) -> dict[str, str]:
    return L10N.get(lang, L10N["en"])


def fmt_time(rng: random.Random, year_lo: int = 2018, year_hi: int = 2025) -> tuple[int, ...]:
    return (rng.randint(year_lo, year_hi), rng.randint(1, 12), rng.randint(1, 28),
            rng.randint(0, 23), rng.randint(0, 59))


# The page's own date line. NTREX-128's articles were all published on 29-30 September 2018;
# FLORES gives no dates. Every page gets a date in that two-day window, so the date line is real
# furniture (to be recognised and not mistaken for evidence) without inventing false conflicts
# between translations published years apart, which real corpora do not have.
PAGE_DATES = ((2018, 9, 29), (2018, 9, 30))


def date_line(outlet: Outlet, lang: str, rng: random.Random) -> str:
    y, mo, d = rng.choice(PAGE_DATES)
    h, mi = rng.randint(0, 23), rng.randint(0, 59)
    style = outlet.date_style
    if style == 0:
        if lang == "vi":
            days = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
            return f"{days[(d + mo) % 7]}, ngày {d:02d}/{mo:02d}/{y} | {h:02d}:{mi:02d}"
        return f"{d:02d}/{mo:02d}/{y} | {h:02d}:{mi:02d}"
    if style == 1:
        return f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d} GMT+7"
    if style == 2:
        return f"{d}.{mo}.{y} kl. {h:02d}.{mi:02d}"
    if style == 3:
        return f"{outlet.name}{outlet.name}{d:02d}/{mo:02d}/{y}"  # the doubled name real pages show
    return f"{h:02d}:{mi:02d} {d:02d}/{mo:02d}/{y}"


def stamp(rng: random.Random) -> str:
    y, mo, d, h, mi = fmt_time(rng, 2023, 2025)
    return f"{h:02d}:{mi:02d} {d:02d}/{mo:02d}/{y}"


def caption(sentence: str, lang: str, rng: random.Random) -> str:
    name, agency = rng.choice(PHOTOGRAPHERS), rng.choice(AGENCIES)
    clause = clause_of(sentence)
    if lang == "vi":
        return f"{clause}. Ảnh: {name.upper()} – {agency}"
    return f"{clause}. ({loc(lang)['photo']}: {name}/{agency})"


# --------------------------------------------------------------------------- page assembly


def _by_lang(records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[r["lang"]].append(r)
    return out


def outlet_sidebars(records: Sequence[dict[str, Any]], seed: int) -> list[str]:
    """One fixed block per outlet: navigation, a 'most read' list of corpus headlines, a footer."""
    by_lang = _by_lang(records)
    blocks = []
    for k, outlet in enumerate(OUTLETS):
        rng = random.Random(stable_int(seed, "sidebar", k))
        lang = outlet.home_lang if outlet.home_lang in by_lang else sorted(by_lang)[0]
        L = loc(lang)
        pool = by_lang[lang]
        picks = rng.sample(pool, min(5, len(pool)))
        lines = [L["most_read"]]
        for i, r in enumerate(picks, 1):
            lines.append(f"{i}. {headline_of(r)}")
        lines.append("")
        lines += [L[x] for x in ("news", "politics", "world", "business", "sport")]
        lines.append("")
        lines.append(f"© {2025 - k} {outlet.name}. " + L["rights"].format(o=outlet.name))
        blocks.append("\n".join(lines))
    return blocks


def related_block(
    rec: dict[str, Any],
    outlet: Outlet,
    lang_ui: str,
    by_lang: dict[str, list[dict[str, Any]]],
    rng: random.Random,
    story_key: str | None,
) -> tuple[str, str]:
    """Return (block text, language of the listed articles)."""
    langs = sorted(by_lang)
    lang = rec["lang"]
    others = [x for x in langs if x != lang]
    if others and rng.random() < OTHER_LANG_SHARE:
        lang = rng.choice(others)
    pool = [
        r for r in by_lang.get(lang, [])
        if r["id"] != rec["id"] and (story_key is None or r.get(story_key) != rec.get(story_key))
    ]
    k = min(len(pool), rng.randint(4, 10))
    items = rng.sample(pool, k)
    L = loc(lang_ui)
    header = rng.choice([L["related"], L["same_cat"], L["more"]])
    lines = [header, ""]
    for it in items:
        head, teaser = headline_of(it), first_sentence(it["text"])
        if outlet.related_style == "headlines":
            lines.append(head)
        elif outlet.related_style == "caption":
            lines += [clause_of(teaser) + f". {loc(lang)['photo']}: {rng.choice(PHOTOGRAPHERS)}",
                      "", head, "", f"({outlet.code})- {teaser}", ""]
        else:
            lines += [head, "", stamp(rng), "", teaser, ""]
    return "\n".join(lines).rstrip(), lang


def make_page(
    rec: dict[str, Any],
    by_lang: dict[str, list[dict[str, Any]]],
    sidebars: list[str],
    seed: int,
    story_key: str | None = "story",
) -> tuple[str, dict[str, Any]]:
    """The page text of one article and a short description of what was added."""
    rng = random.Random(stable_int(seed, "page", rec["id"]))
    k = outlet_of(rec["id"])
    outlet = OUTLETS[k]
    lang = rec["lang"]
    u = rng.random()
    lang_ui = lang if u < 0.5 else (outlet.home_lang if u < 0.8 else "en")
    L = loc(lang_ui)
    parts: list[str] = []
    if rng.random() < 0.5:
        parts.append(f"{outlet.name} - {outlet.tagline}")
    if rng.random() < 0.7:
        crumbs = [L["home"], rng.choice([L["world"], L["news"], L["politics"]]),
                  rng.choice([L["asia"], L["europe"], L["business"], L["sport"]])]
        parts.append(outlet.crumb_sep.join(crumbs))
    title = (rec.get("title") or "").strip()
    if title:
        parts.append(title)
    parts.append(date_line(outlet, lang_ui, rng))
    if rng.random() < 0.4:
        parts.append(L["follow"].format(o=outlet.name))

    sents = split_sentences(rec["text"]) or [rec["text"]]
    paras: list[str] = []
    i = 0
    joiner = "" if is_wide_script(rec["text"]) else " "
    while i < len(sents):
        n = rng.randint(2, 4)
        paras.append(joiner.join(sents[i : i + n]))
        i += n
    n_capt = rng.randint(1, 2)
    cap_lang = lang if rng.random() < 0.7 else "en"
    for _ in range(n_capt):
        cap = caption(rng.choice(sents), cap_lang, rng)
        pos = rng.randint(0, len(paras))
        block = [cap, cap] if rng.random() < 0.3 else [cap]  # alt text + caption, as in seed 004
        paras[pos:pos] = block
    body = outlet.para_sep.join(paras)

    tail: list[str] = []
    r = rng.random()
    if r < 0.3:
        tail.append(L["by"].format(n=rng.choice(PHOTOGRAPHERS).upper()))
    elif r < 0.7:
        tail.append(L["source"])
    widgets = [L["share"], L["comments"], L["write"], L["no_data"], L["read_more"]]
    tail += rng.sample(widgets, rng.randint(1, 3))
    related, rel_lang = related_block(rec, outlet, lang_ui, by_lang, rng, story_key)
    sidebar = sidebars[k]
    blocks = [sidebar, related] if outlet.sidebar_first else [related, sidebar]

    sep = outlet.para_sep
    page = sep.join(["\n".join(parts), body, "\n".join(tail), *blocks])
    info = {"outlet": outlet.name, "ui_lang": lang_ui, "related_lang": rel_lang,
            "article_chars": len(rec["text"]), "page_chars": len(page)}
    return page, info


def make_pages(
    records: Sequence[dict[str, Any]], seed: int = 0, story_key: str | None = "story"
) -> list[dict[str, Any]]:
    """The page variant of a set: same records (ids, lang, gold labels), `text` replaced by the
    page, `title` dropped. Deterministic for a given corpus and seed."""
    by_lang = _by_lang(records)
    sidebars = outlet_sidebars(records, seed)
    out = []
    for rec in records:
        page, _ = make_page(rec, by_lang, sidebars, seed, story_key)
        new = {k: v for k, v in rec.items() if k != "title"}
        new["text"] = page
        out.append(new)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("jsonl", type=Path, help="a labelled articles_*.jsonl")
    ap.add_argument("-o", "--out", type=Path, help="write the page variant as JSONL")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=0, help="print the first N pages")
    args = ap.parse_args(argv)
    records = [json.loads(line) for line in args.jsonl.open(encoding="utf-8") if line.strip()]
    pages = make_pages(records, seed=args.seed)
    for p in pages[: args.show]:
        print(f"===== {p['id']} ({p['lang']})\n{p['text']}\n")
    if args.out:
        with args.out.open("w", encoding="utf-8") as f:
            for p in pages:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
    art = sum(len(r["text"]) for r in records)
    page = sum(len(p["text"]) for p in pages)
    print(f"{len(pages)} pages; article text is {art / max(page, 1):.0%} of the page text",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
