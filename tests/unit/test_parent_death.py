"""`die_with_parent`: a child ends when its parent dies, by the kernel's death signal or, where
that is unavailable, by the watching thread."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A parent that forks a child calling `die_with_parent`, prints its pid, then exits abruptly.
SCRIPT = """
import os, sys, time
from shared import parent_death
if sys.argv[1] == "watched":
    parent_death._arm_death_signal = lambda: False
    parent_death.POLL_SECONDS = 0.05
child = os.fork()
if child == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the test reads the parent's output to EOF
    parent_death.die_with_parent(os.getppid())
    time.sleep(60)
    os._exit(0)
print(child, flush=True)
time.sleep(0.5)
os._exit(0)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["signalled", "watched"])
def test_the_child_ends_when_its_parent_dies(how: str) -> None:
    parent = subprocess.run(
        [sys.executable, "-c", SCRIPT, how], cwd=ROOT, capture_output=True, timeout=30, check=True
    )
    child = int(parent.stdout)
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _running(child):
        subprocess.run(["kill", "-9", str(child)], check=False)
        pytest.fail(f"the child outlived its parent ({how})")
