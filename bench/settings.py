"""The benchmark's server settings: the portal's own, plus the floor view's URL (bench.urls)."""

from portal.settings import *  # noqa: F403 - the very settings the portal runs with

ROOT_URLCONF = "bench.urls"
