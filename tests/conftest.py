"""Test-wide settings: one thread per worker (two threads on a busy 2-core machine run far slower)."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
