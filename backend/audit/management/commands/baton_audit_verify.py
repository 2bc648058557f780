"""Recompute the audit log's hash chain; exit 1 and name the first broken row if it does not hold."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backend.audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit log hash chain. Exit code 1 names the first altered or missing row."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event id {report.broken_id}: {report.reason} "
                f"({report.checked} earlier event(s) verified).",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} event(s) verified."))
