"""`manage.py revoke_client_token PREFIX`: revoke the one usable client token with that prefix."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal.customers.models import ClientToken, hash_token, parse_client_token
from portal.customers.services import client_token_revoke
from portal.db import column_length

PREFIX_LENGTH = column_length(ClientToken, "prefix")


class Command(BaseCommand):
    help = (
        "Revoke a client token, named by its prefix (its first 8 characters, shown when it "
        "was issued and in the admin) or by the whole token. Refuses when no unrevoked token "
        "matches, or when several do."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "prefix", metavar="PREFIX", help="The token's 8-character prefix, or the whole token."
        )
        parser.add_argument(
            "--customer", metavar="NAME", help="Only consider this customer's tokens."
        )

    def handle(self, *args, **options) -> None:
        given = options["prefix"].strip().lower()
        if not given:
            raise CommandError("Give the token's prefix.")
        full = parse_client_token(given)
        tokens = ClientToken.objects.select_related("customer")
        if full is not None:
            tokens = tokens.filter(token_hash=hash_token(full))
        elif len(given) == PREFIX_LENGTH:
            tokens = tokens.filter(prefix=given)
        else:
            # A shorter prefix could revoke some other token by accident.
            raise CommandError(
                f"Give the token's {PREFIX_LENGTH}-character prefix (shown when it was issued "
                f"and in the admin) or the whole token, not {given!r}."
            )
        if options["customer"]:
            tokens = tokens.filter(customer__name=options["customer"])

        with transaction.atomic():
            matches = list(tokens.filter(revoked_at__isnull=True))
            if not matches:
                if tokens.exists():
                    raise CommandError(f"The client token {given!r} is already revoked.")
                raise CommandError(f"No client token matches {given!r}.")
            if len(matches) > 1:
                listing = "\n".join(
                    f"  {t.prefix}  {t.customer.name}  {t.label or '-'}  "
                    f"created {t.created_at:%Y-%m-%d %H:%M}"
                    for t in matches
                )
                raise CommandError(
                    f"{len(matches)} client tokens match {given!r}; give the whole token "
                    f"or --customer:\n{listing}"
                )
            token = matches[0]
            client_token_revoke(token=token, actor=None, note="manage.py revoke_client_token")
        self.stdout.write(
            f"Revoked client token {token.prefix}… of {token.customer.name}"
            f"{f' ({token.label})' if token.label else ''}."
        )
