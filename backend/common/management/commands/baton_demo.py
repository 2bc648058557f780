"""Load the demo users, queue and workflows. Safe to run again: it updates, never duplicates."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from backend.accounts.models import User
from backend.accounts.services import user_upsert
from backend.approvals.models import Queue
from backend.workflows.models import Workflow
from backend.workflows.services import document_hash, workflow_create, workflow_publish

DEMO_USERS = [
    # username, password, role, display name
    ("admin", "baton-admin-demo", User.Role.ADMIN, "Ada Admin"),
    ("builder", "baton-builder-demo", User.Role.BUILDER, "Bea Builder"),
    ("reviewer", "baton-reviewer-demo", User.Role.REVIEWER, "Rey Reviewer"),
]

DEMO_WORKFLOWS = [
    (
        "support_reply.json",
        "Reply to a customer email",
        "Classify a customer's e-mail, draft a reply with an LLM, have a person review it, then send it.",
    ),
]


class Command(BaseCommand):
    help = "Create or refresh Baton's demo users, the Support queue and the demo workflows."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            users = {
                name: user_upsert(
                    username=name, password=pw, role=role, display_name=display, email=f"{name}@baton.local"
                )
                for name, pw, role, display in DEMO_USERS
            }
            support, _ = Queue.objects.get_or_create(
                name="Support", defaults={"description": "Customer replies"}
            )
            support.members.add(users["reviewer"], users["admin"])
            for filename, name, description in DEMO_WORKFLOWS:
                path = settings.BASE_DIR / "fixtures" / "workflows" / filename
                document = json.loads(path.read_text())
                self._ensure_workflow(users["builder"], name, description, document)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with one of:"))
        for name, pw, role, _ in DEMO_USERS:
            self.stdout.write(f"  {role:<9} username: {name:<9} password: {pw}")

    def _ensure_workflow(self, owner: User, name: str, description: str, document: dict[str, Any]) -> None:
        workflow = Workflow.objects.filter(name=name, owner=owner).first()
        if workflow is None:
            workflow = workflow_create(user=owner, name=name, description=description, document=document)
        if not workflow.versions.filter(published=True, document_hash=document_hash(workflow.draft)).exists():
            if document_hash(workflow.draft) == document_hash(document) or not workflow.versions.exists():
                workflow_publish(workflow=workflow, user=owner, note="Demo workflow")
