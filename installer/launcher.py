"""Entry point of the bundled app: the same ``tace-planner`` command as a pip install."""

import multiprocessing
import sys

from tace_planner.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
