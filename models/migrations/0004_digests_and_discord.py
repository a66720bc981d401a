from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_web_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DigestDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='digest_deliveries', on_delete=OnDelete.CASCADE)),
                ('address', fields.ForeignKeyField('models.EmailAddress', source_field='address_id', db_constraint=True, to_field='id', related_name='digest_deliveries', on_delete=OnDelete.CASCADE)),
                ('period', fields.CharField(description='which digest: "daily:2026-11-27" or "weekly:2026-11-23", the local date it is for', max_length=32)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='claimed', max_length=16)),
                ('claimed_by', fields.CharField(null=True, db_index=True, max_length=36)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'digest_delivery', 'app': 'models', 'unique_together': (('address', 'period'),), 'pk_attr': 'id', 'table_description': 'The sent-log of digests: one row per address and period, claimed (inserted) just before the digest is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DiscordWebhook',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='discord_webhook', on_delete=OnDelete.CASCADE)),
                ('webhook_id', fields.BigIntField()),
                ('token', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'discord_webhook', 'app': 'models', 'pk_attr': 'id', 'table_description': "The Discord channel an account's reminders also go to, through its webhook. Only the webhook's id and"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='digest',
            field=fields.CharField(null=True, description='the email digest: daily | weekly | null (off), at `digest_minute` minutes after local midnight, on', max_length=8),
        ),
        ops.AddField(
            model_name='Account',
            name='digest_minute',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='Account',
            name='digest_weekday',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='EmailAddress',
            name='digest_unsubscribed',
            field=fields.BooleanField(default=False, description='one-click unsubscribe from digests only (reminders still come)'),
        ),
        ops.RemoveField(model_name='EmailAddress', name='digest'),
    ]
