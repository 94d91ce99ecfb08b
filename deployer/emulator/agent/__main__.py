"""`python -m deployer.emulator.agent DATA_DIR`: the background node agent of a data directory."""

from __future__ import annotations

import sys
from pathlib import Path

from .control import run_background

if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m deployer.emulator.agent DATA_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_background(Path(sys.argv[1]).resolve()))
