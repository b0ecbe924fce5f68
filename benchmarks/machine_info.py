"""What every benchmark result records about the machine it ran on (Linux /proc, else platform)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

FLAGS = ("avx2", "avx512f", "avx512_vnni")


def cpu_ram() -> tuple[str, list[str], float | None]:
    """CPU model name, the SIMD flags of FLAGS it has, and RAM in GiB (None when unknown)."""
    cpu: str | None = None
    flags: list[str] = []
    ram = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu is None:
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = [f for f in line.split(":", 1)[1].split() if f in FLAGS]
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    return cpu or platform.processor() or "", flags, ram


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0
