"""Recording a few journeys of a sample app through a live Recap, for the corpus's browser tests."""
from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from django.conf import settings

from corpus.apps import CorpusApp
from corpus.export import session_events, wait_until_processed
from corpus.recap_server import RecapServer, recording_env
from corpus.runner import play_all
from corpus.truth import JourneySpec, label_row
from summaries.models import Organization, Project, Session
from tests import conftest


def ms(value: datetime) -> float:
    """A datetime as epoch milliseconds."""
    return value.timestamp() * 1000


@contextmanager
def recorded_journeys(app: CorpusApp, specs: list[JourneySpec], tmp_path: Path,
                      parallel: int) -> Iterator[dict[str, tuple[dict, Session, list[dict]]]]:
    """Play the specs on the app with posthog-js sending to a live Recap; journey -> (label row, session, events)."""
    org = Organization.objects.create(name=f"Corpus test ({app.name})", slug=f"corpus-test-{app.name}")
    project = Project.objects.create(organization=org, name=app.project_name)
    # The same var dir (media, embedded Redis if any) and database as this test process, so it reads what Recap wrote.
    env = recording_env(settings.VAR_DIR, dict(os.environ, DATABASE_URL=conftest.test_database_url()), keep_services=True)
    server = RecapServer(env, log_dir=tmp_path / "logs").start()
    app_server = app.serve(server.url, project.capture_token)
    try:
        records = asyncio.run(play_all(app.url(app_server), specs, parallel=parallel, app=app))
        for record in records:
            assert not record.error, f"{record.spec.name} broke: {record.error}"
            assert len(record.session_ids) == 1
        wait_until_processed(project, [r.session_ids[0] for r in records], timeout=120)
        out = {}
        for record in records:
            session = Session.objects.get(project=project, session_id=record.session_ids[0])
            label = label_row(record, session.session_id, session.start_time.timestamp(), app.observed_marks)
            out[record.spec.journey] = (label, session, session_events(session))
        yield out
    finally:
        app_server.shutdown()
        server.stop()
