"""Whole-job memory peaks of SLURM jobs on this machine, sampled from /proc.

SLURM's own figure (sacct MaxRSS) needs accounting storage, which the CI's
one-node SLURM has not; but its jobs run here, so their processes can be
read directly. Every process below a ``slurmstepd: [JOBID.STEP]`` belongs to
that job: the job's Snakemake, the job step's Snakemake and the rule's
script. Each process's VmHWM (its own peak RSS) only grows, so the largest
value seen per process, summed over the job's processes, bounds the job's
peak from above: what a cgroup or OverMemoryKill limit must hold.
"""

import os
import re
import threading
import time

STEPD_TITLE = re.compile(r"slurmstepd: \[(\d+)\.")


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _processes():
    """{pid: (ppid, cmdline)} of every process now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read(f"/proc/{entry}/stat")
        if not stat:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        table[int(entry)] = (ppid, _read(f"/proc/{entry}/cmdline").replace("\0", " "))
    return table


def _hwm_mb(pid):
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class JobMemorySampler:
    """Samples every SLURM job's processes in a thread: ``peaks()`` -> {job id: MB}."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.per_process = {}  # (job id, pid) -> largest VmHWM seen, MB
        self.commands = {}  # (job id, pid) -> its command line
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self):
        table = _processes()
        job_of = {}
        for pid, (_, cmdline) in table.items():
            match = STEPD_TITLE.match(cmdline)
            if match:
                job_of[pid] = match.group(1)
        for pid in table:
            ancestor, job = table[pid][0], None
            while ancestor in table and job is None:
                job = job_of.get(ancestor)
                ancestor = table[ancestor][0]
            if job is not None:
                key = (job, pid)
                self.commands[key] = table[pid][1]
                self.per_process[key] = max(self.per_process.get(key, 0.0), _hwm_mb(pid))

    def peaks(self):
        """{job id: sum over its processes of their peak RSS, MB}."""
        totals = {}
        for (job, _), mb in self.per_process.items():
            totals[job] = totals.get(job, 0.0) + mb
        return totals
