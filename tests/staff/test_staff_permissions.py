"""The permission matrix over every console URL: anonymous → sign-in, a non-staff user → 403,
a viewer reads but every action is 403, operator and author only their own actions.

Routes are read from portal.staff.urls, so a view added without `@staff_view` fails here.
Permissions are checked before any record is looked up, so made-up ids are enough: a 404
means the check let the user through.
"""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter

from portal.staff import roles

PUBLIC = {"login", "logout", "language", "set_password"}
DENIED = {403, 405}


def _routes(patterns=None, prefix="") -> list[tuple[str, URLPattern]]:
    if patterns is None:
        resolver = next(
            r
            for r in get_resolver().url_patterns
            if isinstance(r, URLResolver) and r.namespace == "staff"
        )
        return _routes(resolver.url_patterns, "/staff/")
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            found.append((prefix + str(pattern.pattern), pattern))
    return found


def _url(route: str, pattern: URLPattern) -> str:
    converters = pattern.pattern.converters
    url = route
    for name, converter in converters.items():
        if isinstance(converter, IntConverter):
            value = "987654"
        elif isinstance(converter, UUIDConverter):
            value = str(uuid.uuid4())
        else:
            value = "no-such-thing"
        for kind in ("int", "uuid", "str", "slug", "path"):
            url = url.replace(f"<{kind}:{name}>", value)
        url = url.replace(f"<{name}>", value)
    return url


ROUTES = [(route, p) for route, p in _routes() if p.name not in PUBLIC]
IDS = [p.name for _, p in ROUTES]


def _permission(pattern: URLPattern) -> str:
    return getattr(pattern.callback, "staff_permission", None)


def test_every_console_view_checks_a_permission():
    unguarded = [p.name for _, p in ROUTES if _permission(p) is None]
    assert not unguarded, f"views without @staff_view: {unguarded}"
    assert {_permission(p) for _, p in ROUTES} <= {roles.VIEW, roles.OPERATE, roles.AUTHOR}


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_anonymous_is_sent_to_sign_in(client, db, route, pattern):
    url = _url(route, pattern)
    for method in (client.get, client.post):
        response = method(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 302, url
        assert response["Location"].startswith("/staff/login/")


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_non_staff_user_is_refused(outsider_client, route, pattern):
    url = _url(route, pattern)
    statuses = {outsider_client.get(url).status_code, outsider_client.post(url).status_code}
    assert statuses <= DENIED and 403 in statuses, url


def _allowed(client, url: str) -> bool:
    """Whether the user got past the check with some method (a 404 for a made-up id counts)."""
    for response in (client.get(url), client.post(url)):
        to_sign_in = response.status_code == 302 and "/staff/login/" in response["Location"]
        if response.status_code not in DENIED and not to_sign_in:
            return True
    return False


def _refused(client, url: str) -> bool:
    statuses = {client.get(url).status_code, client.post(url).status_code}
    return statuses <= DENIED and 403 in statuses


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_each_role_reaches_exactly_its_own_views_and_actions(
    viewer_client, operator_client, author_client, superuser_client, route, pattern
):
    url = _url(route, pattern)
    needed = _permission(pattern)
    may = {
        "viewer": needed == roles.VIEW,
        "operator": needed in (roles.VIEW, roles.OPERATE),
        "author": needed in (roles.VIEW, roles.AUTHOR),
        "superuser": True,
    }
    clients = {
        "viewer": viewer_client,
        "operator": operator_client,
        "author": author_client,
        "superuser": superuser_client,
    }
    for role, client in clients.items():
        if may[role]:
            assert _allowed(client, url), f"{role} refused {url}"
        else:
            assert _refused(client, url), f"{role} let through {url}"
