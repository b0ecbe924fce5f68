"""Quality benchmark, the union: every dev set in one corpus, as real corpora mix them.

Takes the member sets, loaded as they run alone (seeds as real pages, the others clean, one ntrex-k2
draw); gives one corpus of all their articles (`build_union`: ids prefixed `<set>|`, so ids of
different sets never collide, and each article as its own set shows it to a system: ktlab-vi's
`published` and `source` too), and, for a system's labels on that corpus: each member scored on its
own gold (its labels restricted to its ids, `score_members`), the clusters that span two sets
(`cross_set`), and each member's F1 in the union minus its F1 alone (`deltas`).

Sets of one family hold the same reports (ntrex-3 and an ntrex-k2 draw are translations of the same
64 NTREX reports, so an article of one may rightly share a cluster with an article of the other):
a cluster spanning two families is always wrong (`clusters_across_families`, must be 0), a cluster
spanning two sets of one family is right when its articles share the gold of that level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from quality_metrics import complete, default_index, restrict, score_points
from quality_sets import LEVELS, LevelLabels, LoadedSet, prefixed
from quality_systems import System

SEP = "|"


@dataclass
class Union:
    members: list[LoadedSet]  # ids prefixed with "<member name>|"
    set_of: dict[str, str]  # article id -> member name
    family_of: dict[str, str]  # member name -> family (its own name when it has none)

    @property
    def ids(self) -> list[str]:
        return [r["id"] for m in self.members for r in m.records]

    def inputs(self, with_lang: bool) -> list[dict[str, Any]]:
        """What a system sees: every member's records as that member shows them."""
        return [m.visible_record(r, with_lang) for m in self.members for r in m.records]

    def langs(self) -> list[str]:
        return sorted({lang for m in self.members for lang in m.langs.values()})


def build_union(members: list[LoadedSet]) -> Union:
    pre = [prefixed(m, m.name + SEP) for m in members]
    set_of = {r["id"]: m.name for m in pre for r in m.records}
    family_of = {m.name: m.spec.family or m.name for m in pre}
    return Union(members=pre, set_of=set_of, family_of=family_of)


def _pairs(c: int) -> int:
    return c * (c - 1) // 2


def cross_set(union: Union, labels: dict[str, Hashable], level: str) -> dict[str, Any]:
    """Clusters of one level that hold articles of two sets: how many span two families (wrong
    whatever the gold) and how many article pairs they join; how many span two sets of one family,
    the article pairs they join and how many of those share the level's gold (right)."""
    fam = {i: union.family_of[s] for i, s in union.set_of.items()}
    gold: dict[str, Hashable] = {}
    for m in union.members:
        if level in m.gold:
            gold.update(m.gold[level])
    sets_in: dict[Hashable, set[str]] = {}
    fams_in: dict[Hashable, set[str]] = {}
    by_fam: Counter = Counter()
    by_set: Counter = Counter()
    by_fam_gold: Counter = Counter()
    by_set_gold: Counter = Counter()
    size: Counter = Counter()
    for i, c in labels.items():
        s = union.set_of[i]
        sets_in.setdefault(c, set()).add(s)
        fams_in.setdefault(c, set()).add(fam[i])
        size[c] += 1
        by_fam[(c, fam[i])] += 1
        by_set[(c, s)] += 1
        if i in gold:
            by_fam_gold[(c, fam[i], gold[i])] += 1
            by_set_gold[(c, s, gold[i])] += 1
    across_fam_pairs = (sum(_pairs(n) for n in size.values())
                        - sum(_pairs(n) for n in by_fam.values()))
    within_fam_cross_set = (sum(_pairs(n) for n in by_fam.values())
                            - sum(_pairs(n) for n in by_set.values()))
    right = (sum(_pairs(n) for n in by_fam_gold.values())
             - sum(_pairs(n) for n in by_set_gold.values()))
    return {
        "clusters_across_sets": sum(1 for v in sets_in.values() if len(v) > 1),
        "clusters_across_families": sum(1 for v in fams_in.values() if len(v) > 1),
        "pairs_across_families": across_fam_pairs,
        "pairs_across_sets_of_one_family": within_fam_cross_set,
        "of_which_same_gold": right,
    }


def clusters_across_families(union: Union, labels: dict[str, Hashable], level: str
                             ) -> list[dict[str, Any]]:
    """The clusters of one level that hold articles of two families, largest first: per set and
    gold group, how many articles, and (`examples`, for the console only: never written to the
    JSON, ktlab-vi's text may not be kept) one article's title or first words."""
    gold: dict[str, Hashable] = {}
    display: dict[str, str] = {}
    for m in union.members:
        gold.update(m.gold.get(level, m.gold.get("story", {})))
        display.update(m.display)
    members: dict[Hashable, list[str]] = {}
    for i, c in labels.items():
        members.setdefault(c, []).append(i)
    out = []
    for mem in members.values():
        if len({union.family_of[union.set_of[i]] for i in mem}) < 2:
            continue
        groups: Counter = Counter((union.set_of[i], str(gold.get(i))) for i in mem)
        first: dict[tuple[str, str], str] = {}
        for i in mem:
            first.setdefault((union.set_of[i], str(gold.get(i))), display.get(i, i))
        examples = {f"{s} {g} ({n})": first[(s, g)] for (s, g), n in groups.most_common(6)}
        out.append({"size": len(mem), "n_groups": len(groups),
                    "groups": [{"set": s, "gold": g, "n": n}
                               for (s, g), n in groups.most_common(20)],
                    "examples": examples})
    return sorted(out, key=lambda c: -c["size"])


def score_members(union: Union, system: System, points: list[tuple[float, LevelLabels]]
                  ) -> dict[str, Any]:
    """Each member scored on its own gold: score_points over its ids only."""
    out: dict[str, Any] = {}
    for m in union.members:
        ids = [r["id"] for r in m.records]
        sub = [(t, {lvl: restrict(complete(lab[lvl], union.ids, system.name), ids) for lvl in lab})
               for t, lab in points]
        levels, unlabelled, _ = score_points(m, system, ids, sub)
        out[m.name] = {"levels": levels, **({"unlabelled": unlabelled} if unlabelled else {})}
    return out


def cross_set_curve(union: Union, system: System, points: list[tuple[float, LevelLabels]]
                    ) -> dict[str, Any]:
    """`cross_set` at the system's default threshold and at every threshold of its grid."""
    curve = []
    ids = union.ids
    for t, lab in points:
        curve.append({"threshold": t, **{lvl: cross_set(union, complete(lab[lvl], ids, system.name),
                                                          lvl) for lvl in LEVELS if lvl in lab}})
    default = {lvl: curve[default_index(system, points, lvl)][lvl] for lvl in LEVELS if lvl in curve[0]}
    return {"default": {"threshold": {lvl: system.default_for(lvl) for lvl in default}, **default},
            "curve": curve}


def deltas(per_set: dict[str, Any], alone: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each member's pairwise and B-cubed F1 in the union minus alone, per level and point
    (default threshold; best threshold of the grid, each chosen on its own curve)."""
    out: dict[str, Any] = {}
    for name, res in per_set.items():
        a = alone.get(name)
        if a is None or "levels" not in a:
            continue
        out[name] = {
            lvl: {pt: {k: res["levels"][lvl][pt][k] - a["levels"][lvl][pt][k]
                       for k in ("f1", "bcubed_f1", "precision", "recall")}
                  for pt in ("default", "best")}
            for lvl in res["levels"] if lvl in a["levels"]}
    return out


def member_summary(members: Sequence[LoadedSet]) -> list[dict[str, Any]]:
    return [{"set": m.spec.name, "name": m.name, "variant": m.variant, "draw_seed": m.draw_seed,
             "n_articles": len(m.records), "family": m.spec.family or m.spec.name}
            for m in members]
