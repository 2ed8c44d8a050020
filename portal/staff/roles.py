"""Staff roles: Django groups, each granting some of the console's permissions.

viewer reads everything; operator also sends and replays deliveries, re-syncs leads and
manages customers, tokens and partners; author also edits exams, clusters and scorecard
content. A superuser can do everything. The data migration 0002 creates the groups.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from portal.staff.models import Console

VIEW = "staff.view_console"
OPERATE = "staff.operate"
AUTHOR = "staff.author"

VIEWER, OPERATOR, AUTHOR_ROLE = "viewer", "operator", "author"
# Role (group name) → the permission codenames of the Console model it grants.
ROLES: dict[str, tuple[str, ...]] = {
    VIEWER: ("view_console",),
    OPERATOR: ("view_console", "operate"),
    AUTHOR_ROLE: ("view_console", "author"),
}


def role_names(user) -> list[str]:
    """The user's roles, for display ("superuser" first when it is one)."""
    names = sorted(group.name for group in user.groups.all() if group.name in ROLES)
    return ["superuser", *names] if user.is_superuser else names


def roles_granting(permission: str) -> list[str]:
    """The roles that grant `permission` ("staff.operate" → ["operator"])."""
    codename = permission.split(".", 1)[1]
    return [role for role, codenames in ROLES.items() if codename in codenames]


def ensure_roles() -> None:
    """Create the role groups with their permissions if they are missing (the data migration
    does this; a database flushed by a test loses them)."""
    content_type = ContentType.objects.get_for_model(Console, for_concrete_model=False)
    for codename, name in Console._meta.permissions:
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type=content_type, codename__in=codenames)
        )
