"""Run.root_run: a child run's top-level ancestor (the tree shares the root's per-run budget)."""

import django.db.models.deletion
from django.db import migrations, models


def backfill_roots(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Existing child runs get their root, shallowest first (depth is at most 5)."""
    Run = apps.get_model("runs", "Run")
    for depth in range(1, 10):
        children = Run.objects.filter(depth=depth, parent_run__isnull=False).values_list("id", "parent_run_id")
        for run_id, parent_id in children.iterator():
            parent = Run.objects.filter(id=parent_id).values_list("root_run_id", flat=True).first()
            Run.objects.filter(id=run_id).update(root_run_id=parent or parent_id)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0003_child_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="root_run",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="runs.run",
            ),
        ),
        migrations.RunPython(backfill_roots, migrations.RunPython.noop),
    ]
