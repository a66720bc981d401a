from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_email_verification')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarAlias',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='calendar_aliases', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'calendar_alias', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A feed address that keeps working after its account merged into another (the account kept has a feed'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LinkToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharField(max_length=16)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='link_tokens', on_delete=OnDelete.CASCADE)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'link_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A one-time proof from one way into an account, used to add another: made on the web and sent as'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MergedAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('gone_id', fields.IntField(unique=True)),
                ('kept', fields.ForeignKeyField('models.Account', source_field='kept_id', db_constraint=True, to_field='id', related_name='merged_accounts', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'merged_account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An account that became part of another: a session or link that still names it finds the one kept.'},
            bases=['Model'],
        ),
    ]
