"""`python -m agent` runs the `parc-agent` command."""

import sys

from agent.cli import main

sys.exit(main())
