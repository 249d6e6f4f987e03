"""Real processes stopped at a chosen moment (the fault tests' kill points)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def kill_when(argv: list[str], cwd: Path, ready, sig: int) -> None:
    """Start ARGV, send SIG as soon as READY() holds (polled, no fixed sleep), wait for the end."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, "the command ended before the point it was to be killed at"
        assert time.monotonic() < deadline, "the point to kill at never came"
        time.sleep(0.005)
    os.killpg(process.pid, sig)
    process.wait(timeout=60)
