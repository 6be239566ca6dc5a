"""``python -m planalyzer``: the same command line as the ``planalyzer`` script."""

import sys

from planalyzer.cli import main

if __name__ == "__main__":
    sys.exit(main())
