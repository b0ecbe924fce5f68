"""Quality benchmark, the plots: one PNG per set and variant.

Takes one run of the report (a set in one variant, every system's curves and default points) and a
path; writes, per level, precision (solid) and recall (dashed) against the threshold for every
system (defaults marked; dedup as a star), and precision against recall. The runner names the PNGs
after its JSON output (`<stem>_<set>_<variant>.png` beside it; see quality.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {"dedup": "tab:red", "minhash": "tab:green", "tfidf": "tab:orange", "cosine": "tab:blue",
           "semhash": "tab:purple"}


def plot_run(run: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = list(run["levels"])
    fig, axes = plt.subplots(len(levels), 2, figsize=(12, 4.2 * len(levels)), squeeze=False)
    for row, level in enumerate(levels):
        ax, ax_pr = axes[row]
        for name, sysres in run["systems"].items():
            if level not in sysres.get("levels", {}):
                continue
            res = sysres["levels"][level]
            curve = res["curve"]
            ts = [c["threshold"] for c in curve]
            p = [c["precision"] for c in curve]
            r = [c["recall"] for c in curve]
            col = COLOURS.get(name, "black")
            d = res["default"]
            if len(curve) > 1:
                ax.plot(ts, p, "-", color=col, label=f"{name} precision")
                ax.plot(ts, r, "--", color=col, label=f"{name} recall")
                ax_pr.plot(r, p, "-", color=col, label=f"{name} ({sysres['threshold']})")
            mark = "*" if name == "dedup" else "o"
            size = 14 if name == "dedup" else 7
            dt = d["threshold"]
            ax.plot([dt], [d["precision"]], mark, color=col, ms=size,
                    label=f"{name} default ({dt:g})" if len(curve) > 1 else f"{name} precision")
            ax.plot([dt], [d["recall"]], mark, color=col, ms=size, mfc="none",
                    label=None if len(curve) > 1 else f"{name} recall")
            ax_pr.plot([d["recall"]], [d["precision"]], mark, color=col, ms=size,
                       label=f"{name} default" if len(curve) <= 1 else None)
        gold = run["levels"][level]
        ax.set_title(f"{run['set']} / {run['variant']}: {level} level (gold `{gold}`)")
        ax.set_xlabel("threshold (MinHash: Jaccard; TF-IDF, embeddings: cosine)")
        ax.set_ylabel("pairwise precision (solid) / recall (dashed)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="best")
        ax_pr.set_title("precision against recall over each system's threshold grid")
        ax_pr.set_xlabel("pairwise recall")
        ax_pr.set_ylabel("pairwise precision")
        ax_pr.set_xlim(-0.02, 1.02)
        ax_pr.set_ylim(-0.02, 1.02)
        ax_pr.grid(alpha=0.3)
        ax_pr.legend(fontsize=7, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
