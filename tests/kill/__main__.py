"""`python -m tests.kill`: the kill campaign (see kill_campaign.py)."""
import sys

from tests.kill.kill_campaign import main

sys.exit(main())
