"""Quality benchmark, the labelled sets: their registry, loading, and the page variant.

Takes a set name from `SETS`, a variant ('clean': the articles as the set has them; 'page': every
article wrapped in web furniture by benchmarks/pages.py), the page generator's seed and, for a
drawn set, the draw's seed; gives a `LoadedSet`: the records with their gold labels per level,
languages, documents, hard-negative and same-event document pairs, and what a system may see of
them (`LoadedSet.inputs`: id, title, text, the set's `visible` fields such as ktlab-vi's
`published` and `source`, and lang only when asked). Gold labels never leave this object towards a
system. Data and provenance: benchmarks/data/README.md.

Four shapes of set:

- parallel (ntrex-3, ntrex-15, flores-3, flores-6): every report in every language; duplicate gold
  `story`, story gold `event` (NTREX), hard negatives from pairs.tsv;
- real events (ecbplus-dev, ktlab-vi): independent reports of real events, story gold `event`
  only; ECB+'s hard negatives are its same-`topic`, different-`event` article pairs (documents are
  events); ktlab-vi is read from ../shared/data/ktlab-vi (never copied: no licence) and skipped
  when absent;
- drawn (ntrex-k2, ntrex-k1): NTREX-15 with each report kept in k languages drawn at random
  (`draw_languages`), one set per draw seed;
- the union (quality_union.py): every dev set in one corpus.
"""

from __future__ import annotations

import json
import random
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pages import make_pages

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
#: read-only material beside the project (../shared/data): sets that may not be copied in
SHARED_DATA = ROOT.parent / "shared" / "data"

Labels = dict[str, Hashable]  # article id -> cluster label
LevelLabels = dict[str, Labels]  # level ("duplicate" / "story") -> labels
LEVELS = ("duplicate", "story")
VARIANTS = ("clean", "page")


@dataclass(frozen=True)
class SetSpec:
    name: str
    directory: str
    file: str
    gold: dict[str, str]  # level -> gold field
    real_pages: bool = False  # the texts are real web pages already (the seeds)
    about: str = ""
    page_corpus: str = ""  # pages are built over this (super)set, so subsets share their pages
    shared: bool = False  # read from ../shared/data (never copied into the project); skipped if absent
    doc_field: str = "story"  # documents (hard-negative pairs are pairs of documents)
    #: hard negatives: every two documents sharing this field (ECB+: `topic`); "" = pairs.tsv
    hard_negative_field: str = ""
    visible: tuple[str, ...] = ()  # fields besides id/title/text a system may see (ktlab-vi)
    page_story_key: str = "story"  # pages.make_pages: teasers never come from this group
    draw_k: int = 0  # > 0: each report (`story`) kept in draw_k languages drawn at random
    draw_langs: tuple[str, ...] = ()  # ... among these (empty: all of the report's languages)
    family: str = ""  # sets of one family hold the same reports (the union's cross-set check)
    members: tuple[str, ...] = ()  # the union: its member sets (runs once, clean, whatever --variants)
    #: per system, the lowest threshold of its grid swept on this set (the union: dedup from 0.30,
    #: since re-clustering 2,292 articles at 0.20 / 0.25 takes 354 s / 108 s, at 0.30-0.80 < 1 s)
    grid_min: dict[str, float] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return (SHARED_DATA if self.shared else DATA) / self.directory

    @property
    def file_label(self) -> str:
        """The data file as the JSON reports it (relative to the project root)."""
        if self.shared:
            return f"../shared/data/{self.directory}/{self.file}"
        return f"benchmarks/data/{self.directory}/{self.file}" if self.file else ""

    def unavailable(self) -> str | None:
        """Why the set cannot run here (its data is absent), or None."""
        if self.members or not self.file:
            return None
        path = self.data_dir / self.file
        if path.exists():
            return None
        return f"{self.file_label} not found" + (" (read from ../shared, never copied)"
                                                 if self.shared else "")


SETS: dict[str, SetSpec] = {
    s.name: s
    for s in (
        SetSpec("ntrex-3", "ntrex128-dev", "articles_en_vi_sv.jsonl",
                {"duplicate": "story", "story": "event"},
                about="NTREX-128 dev: 64 news articles x en/vi/sv",
                page_corpus="articles_15lang.jsonl", family="ntrex"),
        SetSpec("ntrex-15", "ntrex128-dev", "articles_15lang.jsonl",
                {"duplicate": "story", "story": "event"},
                about="NTREX-128 dev: 64 news articles x 15 languages",
                page_corpus="articles_15lang.jsonl", family="ntrex"),
        SetSpec("flores-3", "flores200-devtest", "articles_en_vi_sv.jsonl",
                {"duplicate": "story"},
                about="FLORES-200 devtest: 281 short documents x en/vi/sv",
                page_corpus="articles_6lang.jsonl"),
        SetSpec("flores-6", "flores200-devtest", "articles_6lang.jsonl",
                {"duplicate": "story"},
                about="FLORES-200 devtest: 281 short documents x en/vi/sv/de/fr/es",
                page_corpus="articles_6lang.jsonl"),
        SetSpec("seeds", "seeds", "articles.jsonl",
                {"duplicate": "story", "story": "event"}, real_pages=True,
                about="the five real seed pages (en/vi/sv)"),
        SetSpec("ecbplus-dev", "ecbplus-dev", "articles.jsonl", {"story": "event"},
                about="ECB+ (Cybulska & Vossen 2014), 21 odd topics: 496 independent English "
                      "reports of 42 real events, two events of one kind per topic",
                doc_field="event", hard_negative_field="topic", page_story_key="event"),
        SetSpec("ktlab-vi", "ktlab-vi", "articles.jsonl", {"story": "event"}, shared=True,
                about="KTLAB VietnameseMDS: 628 Vietnamese reports of 199 real events by "
                      "different outlets (Oct-Nov 2013); evaluation only, read from ../shared",
                doc_field="event", visible=("published", "source"), page_story_key="event"),
        SetSpec("ntrex-k2", "ntrex128-dev", "articles_15lang.jsonl",
                {"duplicate": "story", "story": "event"}, draw_k=2, family="ntrex",
                about="NTREX-128 dev: each of the 64 reports in 2 of its 15 languages, drawn "
                      "at random per draw seed", page_corpus="articles_15lang.jsonl"),
        SetSpec("ntrex-k1", "ntrex128-dev", "articles_15lang.jsonl",
                {"duplicate": "story", "story": "event"}, draw_k=1,
                draw_langs=("en", "vi", "sv"), family="ntrex",
                about="NTREX-128 dev: each of the 64 reports in 1 of en/vi/sv, drawn at random "
                      "per draw seed", page_corpus="articles_15lang.jsonl"),
        SetSpec("union", "", "", {},
                members=("seeds", "ntrex-3", "flores-3", "ecbplus-dev", "ktlab-vi", "ntrex-k2"),
                grid_min={"dedup": 0.30},
                about="every dev set in one corpus (one ntrex-k2 draw: the first draw seed); "
                      "each set scored on its own gold"),
    )
}


@dataclass
class LoadedSet:
    spec: SetSpec
    variant: str
    records: list[dict[str, Any]]  # with gold: never handed to a system
    gold: dict[str, Labels]  # level -> id -> gold label
    langs: dict[str, str]
    doc_of_id: dict[str, str]  # article -> document (gold `story`; ECB+, ktlab-vi: `event`)
    hard_negatives: list[tuple[str, str]]
    same_event: list[tuple[str, str]]
    display: dict[str, str]  # id -> short title for error listings
    draw_seed: int | None = None  # drawn sets: the seed of the language draw
    visible: tuple[str, ...] = field(default_factory=tuple)  # extra fields a system may see

    @property
    def name(self) -> str:
        """The set's name, with its draw seed for a drawn set (ntrex-k2#0)."""
        return self.spec.name if self.draw_seed is None else f"{self.spec.name}#{self.draw_seed}"

    @property
    def key(self) -> str:
        return f"{self.name}/{self.variant}"

    def visible_record(self, r: dict[str, Any], with_lang: bool) -> dict[str, Any]:
        """What a system may see of one record: id, title (if any), text, the set's visible
        fields (when present), and lang only when asked."""
        x: dict[str, Any] = {"id": r["id"], "text": r["text"]}
        if r.get("title"):
            x["title"] = r["title"]
        for f in self.visible:
            if r.get(f):
                x[f] = r[f]
        if with_lang:
            x["lang"] = r["lang"]
        return x

    def inputs(self, with_lang: bool) -> list[dict[str, Any]]:
        """What a system may see, every record (`visible_record`)."""
        return [self.visible_record(r, with_lang) for r in self.records]


@dataclass(frozen=True)
class Job:
    """One run: a set in one variant (and, for a drawn set, one draw seed)."""

    spec: SetSpec
    variant: str
    draw_seed: int | None = None


def jobs_for(sets: list[str], variants: list[str], draw_seeds: list[int] | None = None
             ) -> list[Job]:
    """The runs in order: each set in every variant asked for (a drawn set once per draw seed);
    the seeds once, as 'real'; the union once, clean, after clean runs of its members alone
    (added when not asked for: the union reports each member's F1 in the union minus alone)."""
    seeds = list(draw_seeds) if draw_seeds else [0]
    jobs: list[Job] = []

    def add(job: Job) -> None:
        if job not in jobs:
            jobs.append(job)

    def add_set(spec: SetSpec, variant_list: list[str]) -> None:
        if spec.real_pages:
            add(Job(spec, "real"))
        elif spec.draw_k:
            for v in variant_list:
                for d in seeds:
                    add(Job(spec, v, d))
        else:
            for v in variant_list:
                add(Job(spec, v))

    unions = []
    for s in sets:
        spec = SETS[s]
        if spec.members:
            unions.append(spec)
        else:
            add_set(spec, variants)
    for spec in unions:
        for m in spec.members:
            mspec = SETS[m]
            if mspec.draw_k:
                add(Job(mspec, "clean", seeds[0]))
            else:
                add_set(mspec, ["clean"])
        add(Job(spec, "clean"))
    return jobs


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_pairs(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Hard-negative and same-event document pairs of a set's pairs.tsv (empty when absent)."""
    hard: list[tuple[str, str]] = []
    same: list[tuple[str, str]] = []
    if not path.exists():
        return hard, same
    with path.open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        ia, ib, ir = header.index("story_a"), header.index("story_b"), header.index("relation")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) <= ir:
                continue
            if cols[ir].startswith("hard_negative"):
                hard.append((cols[ia], cols[ib]))
            elif cols[ir].startswith("same_event"):
                same.append((cols[ia], cols[ib]))
    return hard, same


def draw_languages(records: list[dict[str, Any]], k: int, langs: tuple[str, ...], seed: int
                   ) -> list[dict[str, Any]]:
    """Each report (gold `story`) kept in k of its languages drawn at random: the languages of
    `langs` (all of the report's when empty) it exists in, sorted; reports in sorted order, one
    `random.Random(seed).sample` each. Records keep their file order."""
    by_story: dict[str, list[str]] = {}
    for r in records:
        if not langs or r["lang"] in langs:
            by_story.setdefault(r["story"], []).append(r["lang"])
    rng = random.Random(seed)
    keep: set[tuple[str, str]] = set()
    for story in sorted(by_story):
        pool = sorted(set(by_story[story]))
        keep |= {(story, lang) for lang in rng.sample(pool, min(k, len(pool)))}
    return [r for r in records if (r["story"], r["lang"]) in keep]


def topic_pairs(records: list[dict[str, Any]], doc_field: str, topic_field: str
                ) -> list[tuple[str, str]]:
    """Every two documents of one topic (ECB+: the two events of a topic), sorted."""
    docs_of: dict[str, set[str]] = {}
    for r in records:
        docs_of.setdefault(r[topic_field], set()).add(r[doc_field])
    out = []
    for topic in sorted(docs_of):
        docs = sorted(docs_of[topic])
        out += [(a, b) for i, a in enumerate(docs) for b in docs[i + 1 :]]
    return out


def load_set(spec: SetSpec, variant: str, seed: int, draw_seed: int | None = None) -> LoadedSet:
    """The set in one variant: 'clean' (or 'real', the seeds as they are) or 'page'; a drawn set
    in the draw of `draw_seed` (0 when not given)."""
    d = spec.data_dir
    records = read_jsonl(d / spec.file)
    if spec.draw_k:
        draw_seed = 0 if draw_seed is None else draw_seed
        records = draw_languages(records, spec.draw_k, spec.draw_langs, draw_seed)
    else:
        draw_seed = None
    display = {}  # for error listings only: the article's own title or first words, never the page
    for r in records:
        t = (r.get("title") or "").strip() or " ".join(r["text"].split())[:90]
        display[r["id"]] = t if len(t) <= 70 else t[:69] + "…"
    if variant == "page":
        # Pages are built over the whole corpus of the source (all its languages), so the page of
        # an article is the same in the 3-language set, the drawn sets and the full set.
        corpus = read_jsonl(d / spec.page_corpus) if spec.page_corpus else records
        pages = {p["id"]: p for p in make_pages(corpus, seed=seed, story_key=spec.page_story_key)}
        records = [pages[r["id"]] for r in records]
    same: list[tuple[str, str]] = []
    if spec.hard_negative_field:
        hard = topic_pairs(records, spec.doc_field, spec.hard_negative_field)
    else:
        hard, same = read_pairs(d / "pairs.tsv")
    gold = {lvl: {r["id"]: r[fld] for r in records} for lvl, fld in spec.gold.items()}
    return LoadedSet(
        spec=spec, variant=variant, records=records, gold=gold,
        langs={r["id"]: r["lang"] for r in records},
        doc_of_id={r["id"]: r[spec.doc_field] for r in records},
        hard_negatives=hard, same_event=same, display=display, draw_seed=draw_seed,
        visible=spec.visible,
    )


def prefixed(ls: LoadedSet, prefix: str) -> LoadedSet:
    """The set with every article id prefixed (the union: ids of different sets never collide);
    documents are per set and keep their names."""
    def p(i: str) -> str:
        return prefix + i

    records = [{**r, "id": p(r["id"])} for r in ls.records]
    return replace(
        ls, records=records,
        gold={lvl: {p(i): g for i, g in lab.items()} for lvl, lab in ls.gold.items()},
        langs={p(i): lang for i, lang in ls.langs.items()},
        doc_of_id={p(i): doc for i, doc in ls.doc_of_id.items()},
        display={p(i): t for i, t in ls.display.items()},
    )
