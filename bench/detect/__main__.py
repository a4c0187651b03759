from __future__ import annotations

import sys

from bench.detect import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
