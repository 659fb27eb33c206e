# Integrity: events unique per session (not across projects), quarantined events, summary heartbeat and deadline,
# session activity kept for incremental figures (existing sessions get null: recomputed when next touched).

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('summaries', '0003_session_summary'),
    ]

    operations = [
        migrations.CreateModel(
            name='QuarantinedEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(blank=True, default='', help_text="The event's name, if it had one", max_length=200)),
                ('reason', models.TextField()),
                ('event', models.TextField(help_text='The event as JSON (ASCII-escaped, cut at 100 kB)')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddField(
            model_name='session',
            name='activity_segments',
            field=models.JSONField(blank=True, default=None, null=True),
        ),
        migrations.AlterField(
            model_name='session',
            name='activity_segments',
            field=models.JSONField(blank=True, default=list, help_text='[[start_ms, end_ms], ...] of user activity that active_seconds sums (null: not computed yet)', null=True),
        ),
        migrations.AddField(
            model_name='sessionsummary',
            name='deadline_at',
            field=models.DateTimeField(blank=True, help_text='When the run in progress must give up', null=True),
        ),
        migrations.AddField(
            model_name='sessionsummary',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Last sign of life of the run in progress; a stale one means its worker died', null=True),
        ),
        migrations.AlterField(
            model_name='event',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, help_text='Unique within its session: a resent event is stored once'),
        ),
        migrations.AlterField(
            model_name='rawbatch',
            name='payload',
            field=models.BinaryField(help_text='gzip JSON lines, one accepted event each'),
        ),
        migrations.AlterField(
            model_name='recordingchunk',
            name='activity_segments',
            field=models.JSONField(blank=True, default=list, help_text='[[start_ms, end_ms], ...] of user activity, split at idle gaps'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.UniqueConstraint(fields=('session', 'uuid'), name='one_event_per_session_uuid'),
        ),
        migrations.AddField(
            model_name='quarantinedevent',
            name='project',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='quarantined_events', to='summaries.project'),
        ),
        migrations.AddField(
            model_name='quarantinedevent',
            name='raw_batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='quarantined_events', to='summaries.rawbatch'),
        ),
        migrations.AddIndex(
            model_name='quarantinedevent',
            index=models.Index(fields=['project', 'created_at'], name='quarantine_project_created'),
        ),
    ]
