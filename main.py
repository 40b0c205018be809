"""StyleNet Studio entry point: ``python main.py [FILE.mid]`` opens the editor; see ``--help`` for commands."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
