"""The rule for a client token's allowed callback hosts, in one place (form, command, model)."""

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalise_callback_hosts(value: str) -> str:
    """ "A.com, b.com,a.com" → "a.com,b.com"; ValidationError for anything not a host name.

    Compared later with urlsplit(callback_url).hostname (ClientToken.allows_callback), so a
    URL, a port or a path here would never match: refuse them now rather than fail a launch.
    """
    hosts: list[str] = []
    for raw in (value or "").split(","):
        host = raw.strip().lower()
        if not host:
            continue
        if not is_host_name(host):
            raise ValidationError(
                _(
                    "%(value)s is not a host name: give names like client.example.com, "
                    "without scheme, port or path."
                ),
                code="invalid_host",
                params={"value": repr(raw.strip())},
            )
        if host not in hosts:
            hosts.append(host)
    return ",".join(hosts)


def validate_callback_hosts(value: str) -> None:
    """A model-field validator form of normalise_callback_hosts()."""
    normalise_callback_hosts(value)


# Labels of letters (any script), digits, "-" and "_", joined by dots: what urlsplit reports as
# a URL's hostname, lower-cased, for a name. No scheme, port, path, user or spaces. As in DNS, a
# label neither starts nor ends with "-" and is at most 63 characters long; and a name whose
# last label is a number is no name (browsers read "1.2.3.999" as a broken IPv4 address).
_LABEL = r"\w(?:[\w-]{0,61}\w)?"
HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def is_host_name(host: str) -> bool:
    """Whether `host` (lower case) can be urlsplit(url).hostname: a name or an IP address."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        last = host.rstrip(".").rpartition(".")[2]
        return len(host) <= 253 and HOST_NAME.fullmatch(host) is not None and not last.isdigit()
    return True
