from django.db import migrations


def superusers_are_admins(apps, schema_editor):
    User = apps.get_model("org", "User")
    User.objects.filter(is_superuser=True, role="volunteer").update(role="admin")


class Migration(migrations.Migration):
    dependencies = [("org", "0002_superuser_role")]

    operations = [migrations.RunPython(superusers_are_admins, migrations.RunPython.noop)]
