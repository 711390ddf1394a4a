"""Install the shipped onboarding and launch plan templates (covey.lifecycle.playbooks) and the
default evaluation criteria (covey.lifecycle.criteria). Both installs are idempotent."""

from django.db import migrations


def forwards(apps, schema_editor):
    from covey.lifecycle import criteria, playbooks

    playbooks.install(apps.get_model("plans", "PlanTemplate"), apps.get_model("plans", "StageTemplate"),
                      apps.get_model("plans", "TaskTemplate"))
    criteria.install(apps.get_model("lifecycle", "Criterion"))


def backwards(apps, schema_editor):
    from covey.lifecycle.playbooks import SHIPPED

    apps.get_model("plans", "PlanTemplate").objects.filter(name__in=[b["name"] for b in SHIPPED], plans__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial"), ("plans", "0002_default_playbooks")]

    operations = [migrations.RunPython(forwards, backwards)]
