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


def previous_sections() -> dict[str, str]:
    """Sections of the last full run, so `bench/run.py bench_x` refreshes only bench_x."""
    if not OUT.exists():
        return {}
    sections: dict[str, str] = {}
    name = None
    for line in OUT.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("## "):
            name = line[3:].strip()
            sections[name] = ""
        elif name is not None:
            sections[name] += line
    return {k: v.strip("\n") + "\n" for k, v in sections.items()}


def main() -> int:
    only = sys.argv[1:]
    scripts = sorted(p for p in (ROOT / "bench").glob("bench_*.py") if not only or p.stem in only)
    sections: dict[str, str] = {}
    failed = False
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, check=False
        )
        if proc.returncode != 0:
            failed = True
            sections[script.stem] = f"FAILED:\n\n```\n{proc.stderr[-3000:]}\n```\n"
        else:
            sections[script.stem] = f"{proc.stdout.strip()}\n"
        print(proc.stdout or proc.stderr, flush=True)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` (`python bench/run.py`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Machine: {machine()}.\n\n"
        "Peak memory is the maximum resident set size of the benchmark process.\n\n"
    )
    if only:
        # Read now, not at the start: another partial run may have finished meanwhile.
        sections = {**previous_sections(), **sections}
    body = "\n".join(f"## {name}\n\n{text}" for name, text in sorted(sections.items()))
    OUT.write_text(header + body, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
