"""Input preparation and the rule engine on sessions of the bundled sample corpus (real posthog-js in Chromium)."""
from __future__ import annotations

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command

from summaries.analysis.prompt_data import prompt_data_block
from summaries.summarize import load_prepared
from tests.corpus_sessions import HAVE_CORPUS, corpus_labels, first_label, import_labelled

pytestmark = pytest.mark.skipif(not HAVE_CORPUS, reason="the sample corpus (sample_data/) has not been generated")


@pytest.fixture
def corpus(db, tmp_path):
    """Three corpus sessions imported with import_sessions: payment failing, a dead button, noise only."""
    labels = corpus_labels()
    chosen = {
        "payment": first_label(labels, lambda lab: any(b["kind"] == "payment_500" for b in lab["blocking"])),
        "dead": first_label(labels, lambda lab: any(b["kind"] == "dead_button" for b in lab["blocking"])),
        "noise": first_label(labels, lambda lab: not lab["blocking"] and not lab["non_blocking"]
                             and any(n["kind"] == "widget_exception" for n in lab["noise"])),
    }
    labels_file = tmp_path / "labels.jsonl"
    labels_file.write_text("".join(json.dumps(lab) + "\n" for lab in chosen.values()))
    return import_labelled(chosen, tmp_path), labels_file


def rows_of(prepared) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(prepared.csv_text)))


def test_failed_payments_and_error_messages_come_from_the_recording(corpus):
    sessions, _ = corpus
    prepared = load_prepared(sessions["payment"])
    rows = rows_of(prepared)
    failed = [r for r in rows if r["event"] == "request_failed"]
    # posthog-js's network timing (resource timing) has no method, so none is claimed
    assert any(r["detail"].startswith("/api/checkout/pay 5") for r in failed)
    # What the page retried by itself (the recommendations API) is left out.
    assert all("/api/checkout/pay" in r["detail"] for r in failed)
    assert any(r["event"] == "text_shown" and r["detail"].startswith("toast: Payment failed") for r in rows)
    # Aliases: urls in first-seen order, each full URL written once, in the mapping block.
    assert list(prepared.url_aliases)[:2] == ["url_1", "url_2"]
    block = prompt_data_block(prepared)
    assert all(block.count(f"{alias}: {url}\n") == 1 for alias, url in prepared.url_aliases.items())
    assert all(r["url"] == "" or r["url"].startswith("url_") for r in rows)
    assert len({r["id"] for r in rows}) == len(rows) and all(len(r["id"]) == 8 for r in rows)


def test_a_third_party_widget_throwing_is_filtered_out(corpus):
    sessions, _ = corpus
    session = sessions["noise"]
    prepared = load_prepared(session)
    assert session.events.filter(name="$exception").exists()
    assert prepared.stats["exceptions_dropped_as_noise"] >= 1
    assert "agentStatus" not in prompt_data_block(prepared)


def test_the_dead_button_shows_as_a_dead_or_rage_click(corpus):
    sessions, _ = corpus
    rows = rows_of(load_prepared(sessions["dead"]))
    signals = [r for r in rows if r["event"] in ("dead_click", "rageclick")]
    assert signals, "no frustration signal for a button that does nothing"


def test_the_rule_engine_scores_these_sessions_through_the_evaluate_command(corpus):
    _, labels_file = corpus
    out = StringIO()
    call_command("evaluate", str(labels_file), "--engine", "rules", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["blocking"]["recall"] == 1.0 and report["blocking"]["precision"] == 1.0
    assert report["noise_only_sessions"] == {"count": 1, "flagged_blocking": 0, "flagged_ids": []}
