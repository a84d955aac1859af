"""Runs every benchmark and writes docs/benchmarks.md (`make bench`).

Each bench/bench_*.py is a script that prints Markdown table rows (one per measurement)
after a header line; its default arguments are the sizes we publish. Benchmarks never run
inside `make test`: timings belong to a quiet machine, not to CI assertions.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> int:
    only = sys.argv[1:]
    scripts = sorted(p for p in (ROOT / "bench").glob("bench_*.py") if not only or p.stem in only)
    sections = []
    failed = False
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, check=False
        )
        if proc.returncode != 0:
            failed = True
            sections.append(f"## {script.stem}\n\nFAILED:\n\n```\n{proc.stderr[-3000:]}\n```\n")
        else:
            sections.append(f"## {script.stem}\n\n{proc.stdout.strip()}\n")
        print(proc.stdout or proc.stderr, flush=True)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` (`python bench/run.py`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Machine: {machine()}.\n\n"
        "Peak memory is the maximum resident set size of the benchmark process.\n\n"
    )
    OUT.write_text(header + "\n".join(sections), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
