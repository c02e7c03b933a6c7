"""CPU and memory of a process tree, read from /proc while it runs (Linux).

``wait4`` gives a child's rusage, but archiver's extraction workers are
grandchildren under a forkserver that the main process never reaps, so their
CPU would be missing from it. ``TreeSampler`` walks the tree every ``interval``
seconds and keeps, per process, the last CPU time and the peak resident set
(``VmHWM``) it saw, and the peaks of the tree's summed RSS and summed PSS. The
workers are forked from a forkserver that has imported what they need, so
their RSS counts the pages they share with it (and with each other) once per
process; PSS counts each shared page once, split among its sharers, and its
sum over the tree is the memory the tree really holds.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Proc:
    pid: int
    role: str
    cpu: float = 0.0  # seconds, user + system
    hwm_kb: int = 0  # peak RSS as the kernel records it
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (t, cpu seconds, rss bytes)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    found.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return found


def tree(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(_children(pid))
    return out


def _stat(pid: int) -> tuple[float, int] | None:
    """(cpu seconds, rss bytes) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is the state (field 3 of stat); utime, stime are fields 14, 15; rss is 24
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss(pid: int) -> int:
    """Proportional set size in bytes (0 when the kernel does not say)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "main"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "child"
    if "forkserver" in cmd and "spawn_main" not in cmd:
        return "forkserver"
    if "resource_tracker" in cmd:
        return "resource_tracker"
    return "worker"


class TreeSampler:
    def __init__(self, root: int, interval: float = 0.25) -> None:
        self.root = root
        self.interval = interval
        self.procs: dict[int, Proc] = {}
        self.peak_tree_rss = 0
        self.peak_tree_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.t0 = time.monotonic()

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        total = pss = 0
        now = time.monotonic() - self.t0
        for pid in tree(self.root):
            st = _stat(pid)
            if st is None:
                continue
            proc = self.procs.get(pid)
            if proc is None:
                proc = self.procs[pid] = Proc(pid, _role(pid, self.root))
            proc.cpu = st[0]
            proc.hwm_kb = max(proc.hwm_kb, _hwm_kb(pid))
            proc.samples.append((now, st[0], st[1]))
            total += st[1]
            pss += _pss(pid)
        self.peak_tree_rss = max(self.peak_tree_rss, total)
        self.peak_tree_pss = max(self.peak_tree_pss, pss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for p in self.procs.values():
            out[p.role] = out.get(p.role, 0.0) + p.cpu
        return out

    def hwm_by_role(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.procs.values():
            out[p.role] = max(out.get(p.role, 0), p.hwm_kb)
        return out


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores; /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    return (sum(fields[:8]) - idle - steal) / TICK


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])
