"""Re-encrypt every secret at rest with the primary key of BATON_SECRET_KEYS.

Key rotation: put the new key first in BATON_SECRET_KEYS (keep the old ones after it), restart,
run this command, then remove the old keys and restart again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from backend.common.crypto import InvalidToken, encrypted_fields, rotate_token


class Command(BaseCommand):
    help = "Re-encrypt every secret with the primary key of BATON_SECRET_KEYS (MultiFernet.rotate)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Check every token opens; write nothing.")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        quote = connection.ops.quote_name
        total = 0
        with transaction.atomic():
            for model, field in encrypted_fields():
                table, column, pk = (
                    quote(model._meta.db_table),
                    quote(field.column),
                    quote(model._meta.pk.column),
                )
                with connection.cursor() as cursor:
                    # Raw SQL on purpose: the stored tokens, not the decrypted values, and no save().
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
                    rows = cursor.fetchall()
                    for row_pk, token in rows:
                        try:
                            new_token = rotate_token(token)
                        except InvalidToken as exc:
                            raise CommandError(
                                f"{model._meta.label}.{field.name} row {row_pk}: no configured key opens "
                                "this secret. Keep every old key in BATON_SECRET_KEYS until rotation ends."
                            ) from exc
                        if not dry_run:
                            cursor.execute(
                                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                                [new_token, row_pk],
                            )
                    total += len(rows)
                    self.stdout.write(f"{model._meta.label}.{field.name}: {len(rows)} secret(s)")
            if dry_run:
                transaction.set_rollback(True)
        verb = "would be re-encrypted" if dry_run else "re-encrypted with the primary key"
        self.stdout.write(self.style.SUCCESS(f"{total} secret(s) {verb}."))
