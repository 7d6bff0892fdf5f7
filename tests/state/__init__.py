"""A real ``redis-server`` on a free port for the shared-state tests (Debian's package; CI installs it)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

from tests.serverproc import free_port

REDIS_SERVER = shutil.which("redis-server")
START_TIMEOUT_S = 10.0


@dataclass
class RedisServer:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def start_redis(port: int | None = None) -> RedisServer:
    """``redis-server`` without persistence, returned once it accepts connections (read from its log)."""
    assert REDIS_SERVER is not None
    port = free_port() if port is None else port
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    end, seen = time.monotonic() + START_TIMEOUT_S, []
    for raw in proc.stdout:
        line = raw.decode(errors="replace")
        seen.append(line)
        if "Ready to accept connections" in line:
            break
        if time.monotonic() > end:
            break
    else:
        raise AssertionError(f"redis-server exited: {''.join(seen)}")
    if "Ready to accept connections" not in seen[-1]:
        proc.kill()
        raise AssertionError(f"redis-server not ready in {START_TIMEOUT_S} s: {''.join(seen)}")
    # Keep draining its log so the pipe never fills.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return RedisServer(proc, port)
