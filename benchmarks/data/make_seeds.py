"""Build benchmarks/data/seeds/ from fixtures/seeds/*.txt and fixtures/seeds/expected.json.

Writes articles.jsonl (id, lang, text, and the gold labels `story` = duplicate-level group,
`event` = story-level group, `thread`), labels.tsv and pairs.tsv in the layout of the other sets:
document = duplicate group; every two documents of different story-level groups are hard negatives
(all five seeds are about Communist Party of Viet Nam / Japan meetings: one thread), and two
documents of one story-level group are `same_event_different_outlet_article` positives.

    python benchmarks/data/make_seeds.py
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "fixtures" / "seeds"
DST = Path(__file__).resolve().parent / "seeds"
THREAD = "th_cpv_jcp_relations"


def main() -> None:
    expected = json.loads((SRC / "expected.json").read_text(encoding="utf-8"))
    dup_of = {i: f"seeds-d{k}" for k, grp in enumerate(expected["duplicate"]) for i in grp}
    event_of = {i: f"seeds-s{k}" for k, grp in enumerate(expected["story"]) for i in grp}
    DST.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in sorted(SRC.glob("*.txt")):
        sid = path.stem
        rows.append({
            "id": sid,
            "lang": expected["languages"][sid],
            "text": path.read_text(encoding="utf-8"),
            "story": dup_of[sid],
            "event": event_of[sid],
            "thread": THREAD,
            "source": "fixtures/seeds (real web pages)",
        })
    with (DST / "articles.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    docs = sorted({r["story"] for r in rows})
    event_of_doc = {r["story"]: r["event"] for r in rows}
    with (DST / "labels.tsv").open("w", encoding="utf-8") as f:
        f.write("story\tevent\tthread\tmembers\n")
        for d in docs:
            members = ",".join(r["id"] for r in rows if r["story"] == d)
            f.write(f"{d}\t{event_of_doc[d]}\t{THREAD}\t{members}\n")
    with (DST / "pairs.tsv").open("w", encoding="utf-8") as f:
        f.write("story_a\tstory_b\trelation\tevent_a\tevent_b\tthread\n")
        for a, b in itertools.combinations(docs, 2):
            ea, eb = event_of_doc[a], event_of_doc[b]
            rel = ("same_event_different_outlet_article" if ea == eb
                   else "hard_negative_same_thread_different_event")
            f.write(f"{a}\t{b}\t{rel}\t{ea}\t{eb}\t{THREAD}\n")
    print(f"wrote {len(rows)} seeds to {DST}")


if __name__ == "__main__":
    main()
