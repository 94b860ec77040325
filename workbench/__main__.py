"""`python -m workbench ...` runs the command line, like the installed `workbench` script."""

import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
