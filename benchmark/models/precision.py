"""Numeric precision of training and encoding, chosen by the hardware.

bf16 autocast is 1.2-2x faster than fp32 where the device runs bf16 natively (CUDA with
bf16 support; a CPU with AVX512_BF16 or AMX), and 10-20x *slower* where PyTorch emulates it
(measured on an AVX2-only CPU: a Linear(384->1536) forward+backward 63 ms in fp32, 1,242 ms
in bf16). So ``auto`` (the default) means bf16 only where it is native. The resolved value
is part of every run key, stem-cache key and fitted-model key: numbers of two precisions are
never mixed silently.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Literal

import torch

log = logging.getLogger(__name__)

Precision = Literal["bf16", "fp32"]
PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp32")

#: Test hook only: "0"/"1" makes :func:`native_bf16` report no / native bf16 on a CPU, so the
#: ``auto`` path of a CPU without native bf16 can be exercised on one that has it.
NATIVE_BF16_ENV = "BENCHMARK_NATIVE_BF16"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@functools.cache
def native_bf16(device: str = "cpu") -> tuple[bool, str]:
    """Whether ``device`` runs bf16 natively, and the evidence (for the log line)."""
    forced = os.environ.get(NATIVE_BF16_ENV)
    if forced in ("0", "1"):
        return forced == "1", f"{NATIVE_BF16_ENV}={forced}"
    if device.startswith("cuda"):
        ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return ok, f"CUDA bf16 support {'yes' if ok else 'no'}"
    found = []
    checks = (("AVX512_BF16", "_is_avx512_bf16_supported"), ("AMX", "_is_amx_tile_supported"))
    for name, probe in checks:
        fn = getattr(torch.cpu, probe, None)
        try:
            if fn is not None and fn():
                found.append(name)
        except Exception:  # a private probe that changed: fall back to the CPU flags
            pass
    if not found:
        flags = _cpu_flags()
        found = [name for name, flag in (("AVX512_BF16", "avx512_bf16"), ("AMX", "amx_bf16")) if flag in flags]
    capability = torch.backends.cpu.get_cpu_capability()
    if found:
        return True, f"CPU {capability} with {' and '.join(found)}"
    return False, f"CPU {capability} without AVX512_BF16 or AMX"


@functools.cache
def resolve_precision(requested: str, device: str = "cpu") -> Precision:
    """The precision ``requested`` (auto | bf16 | fp32) means on ``device``; logged once per process."""
    if requested not in PRECISIONS:
        from benchmark.errors import unknown_name

        raise unknown_name("precision", requested, PRECISIONS)
    native, why = native_bf16(device)
    if requested == "auto":
        chosen: Precision = "bf16" if native else "fp32"
        log.info("precision %s (auto: %s)", chosen, why)
        return chosen
    if requested == "bf16" and not native:
        log.warning("precision bf16 on a device without native bf16 (%s): PyTorch emulates it, "
                    "10-20x slower than fp32; use --precision auto or fp32", why)
    else:
        log.info("precision %s (requested; %s)", requested, why)
    return "bf16" if requested == "bf16" else "fp32"
