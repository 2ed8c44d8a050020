"""Settings of the portal processes that test_deliveries_crash.py starts and kills.

The portal's own, on a Huey queue of their own, so parallel test runs never take each other's
tasks. Database, timeouts and the rest come from the environment the test gives them.
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import HUEY

HUEY = HUEY | {"name": os.environ["CRASH_TEST_QUEUE"]}
