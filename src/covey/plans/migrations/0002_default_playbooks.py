"""Install the shipped playbooks (see covey.plans.playbooks): three co-sell variants and the small-deal one."""

from django.db import migrations


def forwards(apps, schema_editor):
    from covey.plans.playbooks import install

    install(apps.get_model("plans", "PlanTemplate"), apps.get_model("plans", "StageTemplate"), apps.get_model("plans", "TaskTemplate"))


def backwards(apps, schema_editor):
    from covey.plans.playbooks import PLAYBOOKS

    # Only templates no plan was made from; plans keep their copies either way (template is SET_NULL).
    apps.get_model("plans", "PlanTemplate").objects.filter(
        name__in=[b["name"] for b in PLAYBOOKS], plans__isnull=True,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
