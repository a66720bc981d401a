from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='TelegramChat',
            name='start_payload',
            field=fields.CharField(null=True, description='the payload of the last `/start PAYLOAD` (kept for linking the chat to a web account)', max_length=64),
        ),
    ]
