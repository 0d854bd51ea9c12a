"""``python -m tace_planner``: the same as the ``tace-planner`` command."""

from tace_planner.app import main

raise SystemExit(main())
