"""Staff roles: Django groups, each granting some of the console's permissions.

viewer reads everything; operator also sends and replays deliveries, re-syncs leads and
manages customers, tokens and partners; author also edits exams, clusters and scorecard
content. A superuser can do everything. The data migration 0002 creates the groups.
"""

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
