"""Summarizing one stored session: load its data, pick the engine, reuse a cached summary or make one."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from summaries import heartbeat, llm
from summaries.analysis import schema
from summaries.analysis.events import event_from_row
from summaries.analysis.prompt_data import PrepareOptions, PromptInput, prepare_session, prompt_data_block, rows_to_csv
from summaries.analysis.rules import RULES_VERSION, cross_check, summarize_with_rules
from summaries.analysis.segmenting import digest, fits, merge_parts, part_view, split_rows
from summaries.analysis.signals import SignalThresholds
from summaries.models import Session, SessionSummary, datetime_to_ms, summary_cache_key
from summaries.prompts import PROMPT_VERSION, system_prompt, template, user_prompt

log = logging.getLogger(__name__)
ENGINES = ("rules", "llm")


class SummaryFailed(RuntimeError):
    """A summary could not be made; the message says why and what to do."""


def choose_engine(engine: str | None = None, model: str | None = None) -> tuple[str, str]:
    """(engine, model): `rules` when no model is configured, `llm` otherwise; an explicit engine wins."""
    model = (model if model is not None else llm.configured_model()) or ""
    if engine in (None, "", "auto"):
        engine = "llm" if model else "rules"
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    if engine == "llm" and not model:
        raise SummaryFailed("the llm engine needs a model: set RECAP_LLM_MODEL (e.g. openai/gpt-4.1) or use --engine rules")
    return engine, (model if engine == "llm" else "")


def prepare_options() -> PrepareOptions:
    """Input preparation knobs from settings."""
    return PrepareOptions(
        inactivity_ms=int(float(getattr(settings, "RECAP_INACTIVITY_SECONDS", 10.0)) * 1000),
        signals=SignalThresholds(
            rage_clicks=int(getattr(settings, "RECAP_RAGE_CLICK_COUNT", 3)),
            dead_click_mutation_ms=int(getattr(settings, "RECAP_DEAD_CLICK_MS", 2500)),
            error_click_ms=int(getattr(settings, "RECAP_ERROR_CLICK_MS", 2000)),
        ),
    )


def load_prepared(session: Session, options: PrepareOptions | None = None) -> PromptInput:
    """The session's events and recording, prepared for an engine."""
    # session_id too: the related manager reads it on every row (one query per event when it is deferred)
    fields = ("session_id", "uuid", "timestamp", "name", "window_id", "current_url", "properties")
    events = [event_from_row(e) for e in session.events.all().only(*fields)]
    rrweb = session.rrweb_events()
    start = datetime_to_ms(session.start_time) if session.start_time else None
    end = datetime_to_ms(session.end_time) if session.end_time else None
    metadata = {
        "start_time": session.start_time,
        "active_seconds": session.active_seconds,
        "click_count": session.click_count,
        "keypress_count": session.keypress_count,
        "console_error_count": session.console_error_count,
        "first_url": session.first_url,
    }
    return prepare_session(session.session_id, events, rrweb, start_ms=start, end_ms=end,
                           session_metadata=metadata, options=options or prepare_options())


@dataclass
class EngineAnswer:
    """A grounded answer and what it cost."""

    grounded: dict[str, Any]
    usage: llm.LLMUsage
    attempts: int


def _parser(prepared: PromptInput):
    """Parse + validate + ground a model answer; unusable answers raise OutputRejected so they are retried."""
    def parse(text: str) -> dict[str, Any]:
        try:
            return schema.ground(schema.validate_output(schema.parse_model_output(text)), prepared)
        except (schema.OutputError, TypeError, ValueError, KeyError) as exc:
            raise llm.OutputRejected(str(exc)) from exc
    return parse


def summarize_with_llm(prepared: PromptInput, model: str, focus: str = "") -> EngineAnswer:
    """Ask the model: one call when the session fits the context budget, else one per part plus a merge."""
    budget = int(getattr(settings, "RECAP_CONTEXT_TOKENS", 150_000))
    system = system_prompt(focus)
    usage = llm.LLMUsage()
    if fits(prepared, budget):
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user_prompt(prompt_data_block(prepared))}]
        try:
            result = llm.complete(messages, parse=_parser(prepared), model=model)
        except llm.LLMError as exc:
            raise SummaryFailed(str(exc)) from exc
        return EngineAnswer(result.value, result.usage, result.usage.calls)
    parts = split_rows(prepared, budget)
    answers = []
    for i, rows in enumerate(parts):
        view = part_view(prepared, rows)
        neighbours = template("segment_neighbours.txt").substitute(
            part=i + 1, parts=len(parts),
            before=digest(prepared, parts[i - 1]) if i else "nothing (start of the session)",
            after=digest(prepared, parts[i + 1]) if i + 1 < len(parts) else "nothing (end of the session)",
        )
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": user_prompt(prompt_data_block(prepared, rows_to_csv(prepared, rows)),
                                                            neighbours=neighbours)}]
        try:
            result = llm.complete(messages, parse=_parser(view), model=model)
        except llm.LLMError as exc:
            usage.add(exc.usage)
            raise SummaryFailed(f"part {i + 1} of {len(parts)}: {exc}") from exc
        usage.add(result.usage)
        answers.append(result.value)
    merged = merge_parts(answers)
    merged["session_outcome"] = _merge_outcome(merged, model, focus, usage)
    return EngineAnswer(merged, usage, usage.calls)


def _merge_outcome(merged: dict[str, Any], model: str, focus: str, usage: llm.LLMUsage) -> dict[str, Any]:
    """One session outcome for a session summarised in parts (a small extra call)."""
    from summaries.analysis.prompt_data import DATA_CLOSE, DATA_OPEN, sanitize

    lines = []
    for seg in merged["segments"]:
        outcome = merged["segment_outcomes"].get(seg["index"], {})
        lines.append(f"- {sanitize(seg['name'])}: success={outcome.get('success', True)}; {sanitize(outcome.get('summary', ''))}")
    focus_line = f"Focus of the analysis: {' '.join(focus.split())[:500]}" if focus.strip() else ""
    prompt = template("merge_outcome.txt").substitute(data_open=DATA_OPEN, data_close=DATA_CLOSE, parts="\n".join(lines),
                                                     focus=focus_line)

    def parse(text: str) -> dict[str, Any]:
        try:
            data = schema.parse_model_output(text)
            outcome = data.get("session_outcome")
            if not isinstance(outcome, dict):
                raise schema.OutputError("no session_outcome mapping")
            return {"success": schema._bool(outcome.get("success"), "success"),
                    "description": str(outcome.get("description") or "").strip()}
        except schema.OutputError as exc:
            raise llm.OutputRejected(str(exc)) from exc

    try:
        result = llm.complete([{"role": "user", "content": prompt}], parse=parse, model=model)
    except llm.LLMError as exc:
        usage.add(exc.usage)
        raise SummaryFailed(f"merging the parts: {exc}") from exc
    usage.add(result.usage)
    return result.value


def empty_answer() -> dict[str, Any]:
    """The answer for a session with no usable events (no model call)."""
    return {
        "segments": [],
        "key_actions": [],
        "segment_outcomes": {},
        "session_outcome": {"success": False, "description": "No user activity was recorded in this session."},
        "grounding": {"referenced_ids": 0, "invented_ids": [], "invented_ratio": 0.0},
    }


def _claim(row: SessionSummary, force: bool = False) -> bool:
    """Atomically mark a row running unless it is done or another live run has it (its heartbeat is fresh);
    a claimed run beats and has a deadline until _store (summaries.heartbeat). `force` redoes a done row."""
    now = timezone.now()
    with transaction.atomic():
        locked = SessionSummary.objects.select_for_update().get(pk=row.pk)
        if locked.status == SessionSummary.Status.SUCCEEDED and not force:
            return False
        if locked.status == SessionSummary.Status.RUNNING and not heartbeat.is_abandoned(
                locked.heartbeat_at, locked.updated_at, now):
            return False
        locked.status = SessionSummary.Status.RUNNING
        locked.error = ""
        locked.heartbeat_at = now
        locked.deadline_at = now + timedelta(seconds=heartbeat.deadline_seconds())
        locked.save(update_fields=["status", "error", "heartbeat_at", "deadline_at", "updated_at"])
    row.status, row.heartbeat_at, row.deadline_at = locked.status, locked.heartbeat_at, locked.deadline_at
    heartbeat.guard(row.pk)
    return True


def summarize_session(
    session: Session, *, engine: str | None = None, model: str | None = None, focus: str = "", force: bool = False
) -> SessionSummary:
    """The session's summary for (engine + model, prompt version, focus, input): the stored one, or a new one.

    Asking again for the same inputs returns the stored row with no model call. A failed row is retried.
    Raises SummaryFailed (after storing the error on the row) when the engine fails.
    """
    engine, model = choose_engine(engine, model)
    focus = " ".join((focus or "").split())
    prepared = load_prepared(session)
    version = RULES_VERSION if engine == "rules" else PROMPT_VERSION
    key = summary_cache_key(session.pk, engine, model, version, focus, prepared.input_hash)
    try:
        row, _ = SessionSummary.objects.get_or_create(
            cache_key=key,
            defaults={"session": session, "engine": engine, "model": model, "prompt_version": version, "focus": focus,
                      "input_hash": prepared.input_hash, "prompt_tokens": prepared.token_count},
        )
    except IntegrityError:  # two workers created it at once: use theirs
        row = SessionSummary.objects.get(cache_key=key)
    if row.status == SessionSummary.Status.SUCCEEDED and not force:
        return row
    if not _claim(row, force=force):
        row.refresh_from_db()
        return row
    started = time.monotonic()
    usage = llm.LLMUsage()
    try:
        if not prepared.rows:
            # Nothing to analyse: a stored, empty summary (so sweeps do not pick the session up forever).
            answer = EngineAnswer(empty_answer(), usage, 0)
        elif engine == "rules":
            answer = EngineAnswer(summarize_with_rules(prepared), usage, 0)
        else:
            answer = summarize_with_llm(prepared, model, focus)
        usage = answer.usage
        summary = schema.build_summary(answer.grounded, prepared, engine=engine, model=model,
                                       prompt_version=version, focus=focus)
        if engine == "llm":
            summary = cross_check(summary, prepared)
    except SummaryFailed as exc:
        cause = exc.__cause__
        spent = getattr(cause, "usage", None) or usage
        _store(row, status=SessionSummary.Status.FAILED, error=str(exc), usage=spent, started=started)
        raise
    except Exception as exc:
        _store(row, status=SessionSummary.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}", usage=usage,
               started=started)
        raise SummaryFailed(f"summarizing session {session.session_id} failed: {exc}") from exc
    _store(row, status=SessionSummary.Status.SUCCEEDED, summary=summary, usage=usage, started=started,
           attempts=answer.attempts)
    return row


def _store(row: SessionSummary, *, status: str, usage: llm.LLMUsage, started: float, summary: dict | None = None,
           error: str = "", attempts: int | None = None) -> None:
    """Save the outcome of a run on its row (and stop guarding it)."""
    heartbeat.release(row.pk)
    row.status = status
    row.error = error
    if summary is not None:
        row.summary = summary
    row.llm_calls += usage.calls
    row.input_tokens += usage.input_tokens
    row.output_tokens += usage.output_tokens
    if usage.cost_usd is not None:
        row.cost_usd = (row.cost_usd or Decimal("0")) + Decimal(str(round(usage.cost_usd, 6)))
    row.attempts += attempts if attempts is not None else max(1, usage.calls)
    row.duration_ms = int((time.monotonic() - started) * 1000)
    row.save()


def latest_summary(session: Session, engine: str | None = None) -> SessionSummary | None:
    """The most recent successful summary of a session made by the current code (optionally of one engine)."""
    rows = session.summaries.current().filter(status=SessionSummary.Status.SUCCEEDED)
    if engine:
        rows = rows.filter(engine=engine)
    return rows.order_by("-updated_at").first()
