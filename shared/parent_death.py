"""Worker processes that die with their parent.

A parent killed with SIGKILL runs no cleanup: the children it spawned (a rebuild's staging
workers) would keep reading the log and writing a generation nobody will switch to, holding
memory and CPU, until they finish on their own. On Linux the kernel can signal a child when
its parent dies (`prctl(PR_SET_PDEATHSIG)`); elsewhere a daemon thread watches the parent id.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time

logger = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Make this process end (SIGKILL) as soon as `parent_pid`, its parent, is gone.

    Call it first thing in the child (a pool initializer). The kernel's death signal is armed
    only from now on, so a parent that died before this call is caught by comparing
    `os.getppid()` with the pid the parent passed down (the child was re-parented by then).
    """
    armed = sys.platform.startswith("linux") and _arm_death_signal()
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGKILL)
    if not armed:
        threading.Thread(target=_watch, args=(parent_pid,), daemon=True).start()


def _arm_death_signal() -> bool:
    """True when the kernel will SIGKILL this process at its parent's death."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            return True
    except (OSError, AttributeError):
        pass
    logger.warning("prctl(PR_SET_PDEATHSIG) unavailable: watching the parent pid instead")
    return False


def _watch(parent_pid: int) -> None:
    """Poll the parent id (a dead parent's children are re-parented) and end this process."""
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)
