"""`manage.py create_customer NAME`: create a customer (or reuse it) and issue a client token."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal.customers.models import ClientToken, Customer
from portal.customers.services import client_token_issue, customer_create
from portal.customers.validators import normalise_callback_hosts
from portal.documents import checked

NOTE = "manage.py create_customer"


def parse_hosts(value: str) -> list[str]:
    """Split "a.com, B.com" into ["a.com", "b.com"]; refuse URLs, ports and paths."""
    try:
        hosts = normalise_callback_hosts(value)
    except ValidationError as error:
        raise CommandError(error.messages[0]) from error
    return hosts.split(",") if hosts else []


class Command(BaseCommand):
    help = (
        "Create the customer NAME if it does not exist, issue it a new client token and print "
        "the token (once: only its hash is stored) and the customer's signing secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="The customer's name (unique).")
        parser.add_argument(
            "--allowed-callback-hosts",
            default="",
            metavar="HOSTS",
            help="Comma-separated host names callback_url may use, e.g. a.com,b.com "
            "(default: any host).",
        )
        parser.add_argument("--label", default="", metavar="L", help="A note on the token.")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object instead of text."
        )

    def handle(self, *args, **options) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("The customer name must not be empty.")
        # Checked before anything is written: PostgreSQL would refuse a name or a label longer
        # than its column with a traceback (SQLite stored it).
        name = checked(Customer, "name", name, "The customer name")
        label = checked(ClientToken, "label", options["label"].strip(), "The token label")
        hosts = parse_hosts(options["allowed_callback_hosts"])
        checked(ClientToken, "allowed_callback_hosts", ",".join(hosts), "--allowed-callback-hosts")
        with transaction.atomic():
            found = Customer.objects.filter(name=name).first()
            created = found is None
            customer = customer_create(name=name, actor=None, note=NOTE) if found is None else found
            if not customer.is_active:
                raise CommandError(
                    f"Customer {name!r} is deactivated, so a new token would not authenticate. "
                    "Reactivate it in the admin first."
                )
            token, raw = client_token_issue(
                customer=customer,
                label=label,
                allowed_callback_hosts=",".join(hosts),
                actor=None,
                note=NOTE,
            )

        if options["json"]:
            result = {
                "customer": customer.name,
                "client_token": raw,
                "signing_secret": customer.signing_secret,
                "allowed_callback_hosts": token.allowed_hosts,
            }
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(
            f"Customer:       {customer.name} ({'created' if created else 'existing'})"
        )
        self.stdout.write(f"Client token:   {raw}")
        self.stdout.write(f"Token label:    {token.label or '-'} (prefix {token.prefix})")
        self.stdout.write(f"Callback hosts: {', '.join(token.allowed_hosts) or 'any'}")
        self.stdout.write(f"Signing secret: {customer.signing_secret}")
        self.stdout.write(
            self.style.WARNING(
                "Copy the client token now: it is stored hashed and won't be shown again."
            )
        )
