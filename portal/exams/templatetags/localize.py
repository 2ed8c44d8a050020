"""{% load localize %}: the template library of portal/localize.py, which is where it lives.

Here only so that Django finds it (an installed app's templatetags) with no settings entry;
every page may load it, not only the exam's.
"""

from portal.localize import register

__all__ = ["register"]
