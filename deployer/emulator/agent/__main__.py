"""`python -m deployer.emulator.agent DATA_DIR`: the background node agent of a data directory."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from .control import run_background

if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m deployer.emulator.agent DATA_DIR", file=sys.stderr)
        sys.exit(2)


    def _terminate(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)  # unwinds through Agent.run, which kills the tasks it started

    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run_background(Path(sys.argv[1]).resolve()))
