"""The issue's full fuzz counts: 10,000 odd bodies per provider API and 5,000 admin API cases.

    python -m benchmarks.fuzz                         # 10,000 per API, 5,000 admin
    python -m benchmarks.fuzz --bodies 2000 --admin 1000

CI runs the same tests (tests/fuzz) with 1,000 per API and 500 admin cases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=10_000, help="odd bodies per provider API [10,000]")
    parser.add_argument("--admin", type=int, default=5_000, help="schemathesis cases on the admin API [5,000]")
    args = parser.parse_args(argv)
    env = {
        **os.environ,
        "LLMREPLAY_FUZZ_EXAMPLES": str(args.bodies),
        "LLMREPLAY_FUZZ_ADMIN_EXAMPLES": str(args.admin),
    }
    start = time.monotonic()
    cmd = [sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-s", "-p", "no:cacheprovider"]
    done = subprocess.run(cmd, env=env, check=False)
    print(f"\n{args.bodies:,} bodies per provider API, {args.admin:,} admin cases: {time.monotonic() - start:.0f} s")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
