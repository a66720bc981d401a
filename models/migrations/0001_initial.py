from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.account import default_offsets
from models.contest import ChangeKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(default='person', max_length=16)),
                ('timezone', fields.CharField(default='UTC', max_length=64)),
                ('language', fields.CharField(default='en', max_length=8)),
                ('sites', fields.JSONField(null=True, description='site slugs to follow, null for the default (popular) set', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('include_keywords', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('exclude_keywords', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('min_duration', fields.IntField(null=True)),
                ('max_duration', fields.IntField(null=True)),
                ('reminder_offsets', fields.JSONField(default=default_offsets, description='seconds before the start at which to remind, e.g. [86400, 3600]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('paused', fields.BooleanField(default=False)),
                ('calendar_token', fields.CharField(null=True, unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person or a group chat with its preferences. Identities (Telegram, email, OAuth) attach to it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailAddress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('address', fields.CharField(unique=True, max_length=320)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='emails', on_delete=OnDelete.CASCADE)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('unsubscribed', fields.BooleanField(default=False)),
                ('token', fields.CharField(null=True, unique=True, description="the unguessable token in this address's verification and unsubscribe links", max_length=64)),
                ('digest', fields.CharField(null=True, max_length=8)),
            ],
            options={'table': 'email_address', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An email address of an account. Only verified, subscribed addresses get mail.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OAuthIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=32)),
                ('subject', fields.CharField(max_length=255)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='oauth_identities', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(null=True, max_length=320)),
            ],
            options={'table': 'oauth_identity', 'app': 'models', 'unique_together': (('provider', 'subject'),), 'pk_attr': 'id', 'table_description': 'A login through an OAuth / OpenID Connect provider.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Site',
            fields=[
                ('slug', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('name', fields.CharField(max_length=100)),
                ('url', fields.CharField(max_length=300)),
                ('every_seconds', fields.IntField()),
                ('last_try', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_success', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'site', 'app': 'models', 'pk_attr': 'slug', 'table_description': 'A contest site and its fetch health (the module in fetchers/ says how to read it).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Contest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('site', fields.ForeignKeyField('models.Site', source_field='site_id', db_constraint=True, to_field='slug', related_name='contests', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=128)),
                ('title', fields.CharField(max_length=300)),
                ('url', fields.CharField(max_length=500)),
                ('start', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('duration', fields.IntField()),
                ('kind', fields.CharField(null=True, max_length=64)),
                ('cancelled', fields.BooleanField(default=False)),
                ('misses', fields.SmallIntField(default=0, description='successful fetches in a row that did not list this (future) contest, 2 cancel it')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'contest', 'app': 'models', 'unique_together': (('site', 'key'),), 'pk_attr': 'id', 'table_description': "A contest as last fetched. Times are UTC, `key` is the site's own id. Never deleted, only cancelled."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContestChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='changes', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='NEW: new\nRESCHEDULED: rescheduled\nRENAMED: renamed\nEXTENDED: extended\nCANCELLED: cancelled\nRESTORED: restored', enum_type=ChangeKind, max_length=16)),
                ('old_start', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('new_start', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('old_title', fields.CharField(null=True, max_length=300)),
                ('new_title', fields.CharField(null=True, max_length=300)),
                ('old_duration', fields.IntField(null=True)),
                ('new_duration', fields.IntField(null=True)),
                ('noticed_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'contest_change', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One thing ingest noticed about a contest. It feeds live pages and "contest moved" notices.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(default='reminder', max_length=16)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharField(max_length=16)),
                ('offset_seconds', fields.IntField()),
                ('contest_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='claimed', max_length=16)),
                ('claimed_by', fields.CharField(null=True, db_index=True, max_length=36)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'delivery', 'app': 'models', 'unique_together': (('account', 'contest', 'channel', 'kind', 'offset_seconds', 'contest_start'),), 'pk_attr': 'id', 'table_description': 'The sent-log: one row per reminder or notice, claimed (inserted) before it is sent, so it goes out once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TelegramChat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chat_id', fields.BigIntField(unique=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='telegram_chats', on_delete=OnDelete.CASCADE)),
                ('chat_type', fields.CharField(max_length=16)),
                ('title', fields.CharField(null=True, max_length=255)),
                ('active', fields.BooleanField(default=True)),
                ('start_payload', fields.CharField(null=True, description='the payload of the last `/start PAYLOAD` (kept for linking the chat to a web account)', max_length=64)),
            ],
            options={'table': 'telegram_chat', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A Telegram private chat, group or channel, deactivated when it blocks or removes the bot.'},
            bases=['Model'],
        ),
    ]
