from __future__ import annotations

import sys

from bench.people_import import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
