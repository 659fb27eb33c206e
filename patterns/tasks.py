"""The Celery canvas of a group report, phase by phase.

    start_report -> chord(summarize_for_report x sessions; queue llm) -> after_summaries
      -> chord(extract_chunk x chunks greedy by tokens; llm) -> after_extraction
      -> chord(merge_patterns; llm) -> after_combine                (only with more than one chunk)
      -> chord(assign_chunk x chunks of 10 summaries; llm) -> after_assignment: statistics, ranking
      -> chord(render_clip_by_id; render | validate_example; llm) -> after_validation   (blocking patterns)

Tasks take ids and Redis keys, never payloads. Work items are content-addressed (the version of the code and
prompts, the model, the focus and the exact inputs), their results cached in Redis for 24 h and done under a
lease, so a resumed or repeated run makes no model call that finished before. Item tasks never raise: a
failure is an outcome the callback counts against the phase's threshold.
"""
from __future__ import annotations

import functools
import logging
import time
from typing import Any

from celery import chain, chord, current_task, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import connection

from patterns import progress, store
from patterns.assignment import assign_with_llm, assign_with_rules
from patterns.chunking import by_count, by_tokens
from patterns.combine import combine_rule_patterns, combine_with_llm, uncombined
from patterns.asking import StageFailed
from patterns.extraction import Item, extract_with_llm, extract_with_rules
from patterns.leases import alive_key, exclusive, keeper, stall_seconds
from patterns.llm_output import MAX_COMBINED
from patterns.models import PatternExample, Report
from patterns.phases import (
    MAX_RESUMES, Phase, Status, chunks_needed, current, final_status, finish, meets, move, note_partial, phase_record,
    summaries_needed,
)
from patterns.prompt_data import session_text
from patterns.selection import select
from patterns.stats import SummaryInput, rank, store_patterns
from patterns.summarizing import summary_for
from patterns.summary_view import as_written, summary_digest
from patterns.validation import current_action, examples_to_check, note_failure, refresh_verdicts
from patterns.versions import version_for
from replay_render.models import Clip
from replay_render.rendering import ClipRequestError
from replay_render.tasks import render_clip_by_id
from replay_render.validation import clip_for_action, validate_action
from summaries.analysis.tokens import count_tokens
from summaries.models import Session, SessionSummary

log = logging.getLogger(__name__)
RULES_CHUNK = 100  # summaries per rule-engine chunk: no model, so chunks are only for spreading the work


# -- helpers -------------------------------------------------------------------------------------------------


def _worker() -> str:
    """The Celery node running the current task ('' outside a worker)."""
    request = getattr(current_task, "request", None)
    return str(getattr(request, "hostname", "") or "")


def _focus(report: Report) -> str:
    """The focus the pattern phases use (the rule engine has no use for one)."""
    return report.focus if report.engine == Report.Engine.LLM else ""


def item_key(stage: str, report: Report, *parts: Any) -> str:
    """A work item's identity: its stage, the engine's code/prompt version, the model, the focus, the inputs."""
    return f"{stage}:" + store.digest(stage, version_for(report.engine), report.model, _focus(report), *parts)


def _save_state(report: Report, **changes: Any) -> None:
    """Merge keys into the report's pipeline_state (the caller owns the current phase)."""
    report.pipeline_state = {**report.pipeline_state, **changes}
    Report.objects.filter(pk=report.pk, run=report.run).update(pipeline_state=report.pipeline_state)


def load_items(summary_ids: list[int]) -> list[Item]:
    """Summaries as written, in id order."""
    rows = SessionSummary.objects.filter(pk__in=summary_ids).values_list("pk", "summary")
    return sorted((pk, as_written(summary)) for pk, summary in rows if summary)


def _summary_digests(summary_ids: list[int]) -> dict[int, str]:
    """Digest of each summary as written (summaries without content left out)."""
    rows = SessionSummary.objects.filter(pk__in=summary_ids).values_list("pk", "summary")
    return {pk: summary_digest(summary) for pk, summary in rows if summary}


def _digests(report: Report) -> dict[int, str]:
    """Digest of each of the report's summaries (cached in Redis for the run)."""
    name = store.key("report", report.pk, "digests", report.pipeline_state.get("input_digest", ""))
    cached = store.get(name)
    if cached is not None:
        return {int(k): v for k, v in cached.items()}
    digests = _summary_digests(report.pipeline_state.get("summaries", []))
    store.put(name, digests)
    return digests


def _chunk_outcomes(items: list[str], results: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """(keys of the chunks that succeeded, [(`chunk 2 of 5`, why it failed)]) from a chord's results."""
    outcome = {r["item"]: r for r in results if isinstance(r, dict) and "item" in r}
    ok = [key for key in items if outcome.get(key, {}).get("ok")]
    failed = [(f"chunk {i} of {len(items)}", outcome.get(key, {}).get("reason") or "no result")
              for i, key in enumerate(items, 1) if key not in ok]
    return ok, failed


def _count_usage(report_id: int, record: str, usage: Any) -> None:
    """Add a work item's model usage (an LLMUsage) to its phase's count."""
    progress.add_usage(report_id, record, usage.calls, usage.input_tokens, usage.output_tokens, usage.cost_usd)


def _run_item(report_id: int, run: int, record: str, item: str, compute) -> dict[str, Any]:
    """Do one content-addressed work item once: reuse its cached result, or compute it under its lease."""
    report = current(report_id, run)
    if report is None:
        return {"item": item, "ok": False, "reason": "stopped (the report was cancelled or resumed elsewhere)"}
    with keeper.working_on(report_id):
        result_name = store.result_key(item)
        outcome = {"item": item, "ok": True, "reason": ""}
        try:
            with exclusive(item, ready=lambda: bool(store.client().exists(result_name))) as mine:
                if mine:
                    given = store.get(store.input_key(item))
                    if given is None:
                        raise StageFailed("the item's input expired from Redis; run the report again")
                    result = compute(report, given)
                    store.put(result_name, result.value)
                    _count_usage(report_id, record, result.usage)
        except StageFailed as exc:
            _count_usage(report_id, record, exc.usage)
            outcome = {"item": item, "ok": False, "reason": str(exc)}
        except Exception as exc:  # an item never takes the report down; the callback counts it
            log.exception("report %s: %s item %s failed", report_id, record, item)
            outcome = {"item": item, "ok": False, "reason": f"{exc.__class__.__name__}: {exc}"}
        progress.item_finished(report_id, "done" if outcome["ok"] else "failed", worker=_worker())
    return outcome


def _keeps_alive(callback):
    """A chord callback that marks its report alive while it works (so nobody resumes it meanwhile)."""
    @functools.wraps(callback)
    def wrapper(results: list[dict[str, Any]], report_id: int, run: int) -> Any:
        """The callback, inside the report's keep-alive."""
        with keeper.working_on(report_id):
            return callback(results, report_id, run)
    return wrapper


def _dispatch(header: list, callback) -> None:
    """Run the header as a chord into the callback (the callback alone when there is nothing to do)."""
    if header:
        chord(header)(callback)
    else:
        callback.delay([])


# -- phase 0/1: selection and summaries ------------------------------------------------------------------------


@shared_task(name="patterns.tasks.start_report", acks_late=True)
def start_report(report_id: int, run: int) -> dict[str, Any]:
    """Resolve the selection (skipping incomplete and empty sessions) and queue a summary for each session."""
    report = current(report_id, run, (Status.QUEUED, Status.RUNNING))
    if report is None:
        return {"report": report_id, "stopped": True}
    with keeper.working_on(report_id):
        if report.status == Status.QUEUED:
            Report.objects.filter(pk=report.pk, run=run).update(status=Status.RUNNING)
            report.status = Status.RUNNING
        selection = select(report)
        names = dict(Session.objects.filter(pk__in=selection.sessions + [pk for pk, _ in selection.skipped])
                     .values_list("pk", "session_id"))
        skips = [(names.get(pk, str(pk)), reason) for pk, reason in selection.skipped]
        state = {**report.pipeline_state, "skipped": skips}
        if not move(report, Phase.SUMMARIZING, selected=selection.sessions, pipeline_state=state):
            return {"report": report_id, "stopped": True}
        progress.session_state(report_id, {names.get(pk, str(pk)): f"skipped: {reason}"
                                           for pk, reason in selection.skipped})
        launch_summaries(report)
    return {"report": report_id, "sessions": len(selection.sessions), "skipped": len(skips)}


def launch_summaries(report: Report) -> None:
    """Phase 1: a summary for each selected session (cached ones come back at once)."""
    skips = report.pipeline_state.get("skipped", [])
    progress.set_phase(report.pk, Phase.SUMMARIZING, total=len(report.selected) + len(skips), skipped=len(skips))
    progress.session_state(report.pk, {sid: "queued" for sid in Session.objects.filter(pk__in=report.selected)
                                       .values_list("session_id", flat=True)})
    header = [summarize_for_report.s(report.pk, report.run, pk) for pk in report.selected]
    _dispatch(header, after_summaries.s(report.pk, report.run))


@shared_task(name="patterns.tasks.summarize_for_report", acks_late=True)
def summarize_for_report(report_id: int, run: int, session_pk: int) -> dict[str, Any]:
    """One session's summary for the report (queue llm); a failure is returned with its reason, never raised."""
    report = current(report_id, run)
    if report is None:
        return {"session": session_pk, "ok": False, "reason": "stopped"}
    with keeper.working_on(report_id):
        session = Session.objects.filter(pk=session_pk).first()
        if session is None:
            outcome = {"session": session_pk, "session_id": str(session_pk), "ok": False,
                       "reason": "the session no longer exists", "summary": None}
        else:
            got = summary_for(session, report.engine, report.model, _focus(report))
            u = got.usage
            progress.add_usage(report_id, "summaries", u.get("calls", 0), u.get("input_tokens", 0),
                               u.get("output_tokens", 0), u.get("cost"))
            outcome = {"session": session_pk, "session_id": session.session_id, "ok": got.ok, "reason": got.reason,
                       "summary": got.summary_id}
        progress.item_finished(report_id, "done" if outcome["ok"] else "failed", worker=_worker(),
                               session=outcome["session_id"],
                               state="summarized" if outcome["ok"] else f"failed: {outcome['reason'][:200]}")
    return outcome


@shared_task(name="patterns.tasks.after_summaries", acks_late=True)
@_keeps_alive
def after_summaries(results: list[dict[str, Any]], report_id: int, run: int) -> None:
    """Count the summaries against their threshold, then extract (or reuse an identical earlier result)."""
    report = current(report_id, run)
    if report is None or report.phase != Phase.SUMMARIZING:
        return
    by_session = {r.get("session"): r for r in results if isinstance(r, dict)}
    done = [r for r in by_session.values() if r.get("ok") and r.get("summary")]
    failed = [(r.get("session_id") or str(r.get("session")), r.get("reason") or "unknown") for r in by_session.values()
              if not r.get("ok")]
    skipped = [tuple(s) for s in report.pipeline_state.get("skipped", [])]
    phases = phase_record(report, Phase.SUMMARIZING, total=len(report.selected) + len(skipped), done=len(done),
                          failed=failed, skipped=skipped)
    summary_ids = sorted(r["summary"] for r in done)
    if not report.selected:
        finish(report, Status.SUCCEEDED, f"No session to analyse in the selection ({len(skipped)} skipped).",
               phases=phases)
        return
    if not meets(len(done), len(report.selected), summaries_needed()):
        status = Status.PARTIAL if done else Status.FAILED
        reason = failed[0][1] if failed else "unknown"
        finish(report, status, f"Only {len(done)} of {len(report.selected)} sessions could be summarized (at least "
                               f"{summaries_needed():.0%} needed); no patterns were extracted. First failure: {reason}",
               phases=phases, sessions_analysed=len(done))
        return
    digests = _summary_digests(summary_ids)
    input_digest = store.digest(version_for(report.engine), report.engine, report.model, _focus(report),
                                sorted(digests.items()))
    state = {**report.pipeline_state, "summaries": summary_ids, "input_digest": input_digest}
    store.put(store.key("report", report.pk, "digests", input_digest), digests)
    reuse = input_digest == report.input_digest  # set when the stored patterns were computed from this input
    if reuse:
        note = {"total": 0, "done": 0, "failed": 0, "skipped": 0, "failures": [], "skips": [], "model_calls": 0,
                "reused": "same summaries, code and prompts as the stored result"}
        phases = {**phases, "extraction": note, "combine": note, "assignment": note}
        if move(report, Phase.VALIDATING, phases=phases, pipeline_state=state, sessions_analysed=len(done)):
            launch_validation(report)
        return
    if move(report, Phase.EXTRACTING, phases=phases, pipeline_state=state, sessions_analysed=len(done)):
        launch_extraction(report)


# -- phase 2: extraction ---------------------------------------------------------------------------------------


def launch_extraction(report: Report) -> None:
    """Phase 2: chunks of summaries (greedy by tokens for a model, fixed size for rules), one task each."""
    summary_ids = report.pipeline_state.get("summaries", [])
    digests = _digests(report)
    skipped: list[tuple[str, str]] = []
    if report.engine == Report.Engine.RULES:
        chunks = by_count(summary_ids, RULES_CHUNK)
    else:
        sizes = [(pk, count_tokens(session_text(summary))) for pk, summary in load_items(summary_ids)]
        planned = by_tokens(sizes, int(getattr(settings, "RECAP_REPORT_CHUNK_TOKENS", 150_000)))
        chunks = planned.chunks
        names = dict(SessionSummary.objects.filter(pk__in=[pk for pk, _ in planned.skipped])
                     .values_list("pk", "session__session_id"))
        skipped = [(names.get(pk, str(pk)), reason) for pk, reason in planned.skipped]
    items = []
    for chunk in chunks:
        key = item_key("extract", report, [[pk, digests.get(pk, "")] for pk in chunk])
        store.put(store.input_key(key), {"summaries": chunk})
        items.append(key)
    _save_state(report, extraction_items=items, extraction_skipped=skipped)
    progress.set_phase(report.pk, Phase.EXTRACTING, total=len(items))
    _dispatch([extract_chunk.s(report.pk, report.run, key) for key in items], after_extraction.s(report.pk, report.run))


def _extract(report: Report, given: dict[str, Any]):
    """Compute one extraction item."""
    items = load_items(given["summaries"])
    if report.engine == Report.Engine.RULES:
        return extract_with_rules(items)
    return extract_with_llm(items, report.model, _focus(report))


@shared_task(name="patterns.tasks.extract_chunk", acks_late=True)
def extract_chunk(report_id: int, run: int, item: str) -> dict[str, Any]:
    """The patterns of one chunk of summaries (queue llm)."""
    return _run_item(report_id, run, "extraction", item, _extract)


def _patterns_ready(report: Report, patterns: list[dict[str, Any]]) -> str:
    """Store the report's pattern list; returns its key (content-addressed)."""
    key = item_key("patterns", report, patterns)
    store.put(store.result_key(key), {"patterns": patterns})
    progress.found(report.pk, [p["name"] for p in patterns])
    return key


@shared_task(name="patterns.tasks.after_extraction", acks_late=True)
@_keeps_alive
def after_extraction(results: list[dict[str, Any]], report_id: int, run: int) -> None:
    """Count the chunks against their threshold; combine when there were several, else assign."""
    report = current(report_id, run)
    if report is None or report.phase != Phase.EXTRACTING:
        return
    items = report.pipeline_state.get("extraction_items", [])
    ok, failed = _chunk_outcomes(items, results)
    skipped = [tuple(s) for s in report.pipeline_state.get("extraction_skipped", [])]
    phases = phase_record(report, Phase.EXTRACTING, total=len(items), done=len(ok), failed=failed, skipped=skipped)
    if not meets(len(ok), len(items), chunks_needed()):
        finish(report, Status.PARTIAL if ok else Status.FAILED,
               f"Only {len(ok)} of {len(items)} extraction chunks succeeded (at least {chunks_needed():.0%} needed); "
               f"no patterns. First failure: {failed[0][1] if failed else 'unknown'}", phases=phases)
        return
    state = dict(report.pipeline_state, extraction_ok=ok)
    chunk_results = [store.get(store.result_key(k)) or {"patterns": []} for k in ok]
    if report.engine == Report.Engine.LLM and len(ok) > 1:
        key = item_key("combine", report, sorted(ok))
        store.put(store.input_key(key), {"chunks": ok})
        state["combine_item"] = key
        progress.found(report.pk, [p["name"] for r in chunk_results for p in r.get("patterns", [])])
        if move(report, Phase.COMBINING, phases=phases, pipeline_state=state):
            launch_combine(report)
        return
    if report.engine == Report.Engine.RULES:
        patterns = combine_rule_patterns(chunk_results).value["patterns"]
        combine_note = {"total": 1, "done": 1, "failed": 0, "skipped": 0, "failures": [], "skips": [],
                        "model_calls": 0, "note": "merged by fingerprint in code"}
    else:
        patterns = uncombined(chunk_results)
        combine_note = {"total": 0, "done": 0, "failed": 0, "skipped": 1, "failures": [], "model_calls": 0,
                        "skips": [{"item": "combine", "reason": "one chunk: nothing to combine"}]}
    state["patterns_key"] = _patterns_ready(report, patterns)
    if move(report, Phase.ASSIGNING, phases={**phases, "combine": combine_note}, pipeline_state=state):
        launch_assignment(report)


# -- phase 3: combine ------------------------------------------------------------------------------------------


def launch_combine(report: Report) -> None:
    """Phase 3 (more than one chunk): one call merging the chunks' patterns."""
    key = report.pipeline_state["combine_item"]
    progress.set_phase(report.pk, Phase.COMBINING, total=1)
    _dispatch([merge_patterns.s(report.pk, report.run, key)], after_combine.s(report.pk, report.run))


def _combine(report: Report, given: dict[str, Any]):
    """Compute the combine item."""
    chunk_results = [store.get(store.result_key(k)) for k in given["chunks"]]
    if any(r is None for r in chunk_results):
        raise StageFailed("an extraction result expired from Redis; run the report again")
    return combine_with_llm(chunk_results, report.model, _focus(report))


@shared_task(name="patterns.tasks.merge_patterns", acks_late=True)
def merge_patterns(report_id: int, run: int, item: str) -> dict[str, Any]:
    """Merge the chunks' patterns into one list of at most 20 (queue llm)."""
    return _run_item(report_id, run, "combine", item, _combine)


@shared_task(name="patterns.tasks.after_combine", acks_late=True)
@_keeps_alive
def after_combine(results: list[dict[str, Any]], report_id: int, run: int) -> None:
    """Take the merged list (or, if merging failed, the chunks' lists as they are) and assign."""
    report = current(report_id, run)
    if report is None or report.phase != Phase.COMBINING:
        return
    key = report.pipeline_state["combine_item"]
    result = next((r for r in results if isinstance(r, dict) and r.get("item") == key), {})
    failed = [] if result.get("ok") else [("combine", result.get("reason") or "no result")]
    phases = phase_record(report, Phase.COMBINING, total=1, done=0 if failed else 1, failed=failed)
    state = dict(report.pipeline_state)
    if failed:
        chunk_results = [store.get(store.result_key(k)) or {"patterns": []} for k in state.get("extraction_ok", [])]
        patterns = sorted(uncombined(chunk_results), key=lambda p: -len(p.get("sessions") or []))[:MAX_COMBINED]
        state = note_partial(state, f"combining failed ({failed[0][1]}); the chunks' patterns were kept apart")
    else:
        patterns = (store.get(store.result_key(key)) or {}).get("patterns", [])
    state["patterns_key"] = _patterns_ready(report, patterns)
    if move(report, Phase.ASSIGNING, phases=phases, pipeline_state=state):
        launch_assignment(report)


# -- phase 4: assignment, then statistics ----------------------------------------------------------------------


def _assign_chunk_size(report: Report) -> int:
    """Summaries per assignment call: RECAP_REPORT_ASSIGN_CHUNK (10) for a model, more for the rules."""
    if report.engine == Report.Engine.RULES:
        return RULES_CHUNK
    return max(1, int(getattr(settings, "RECAP_REPORT_ASSIGN_CHUNK", 10)))


def launch_assignment(report: Report) -> None:
    """Phase 4: chunks of summaries whose flagged moments are matched to the patterns."""
    patterns_key = report.pipeline_state.get("patterns_key", "")
    patterns = (store.get(store.result_key(patterns_key)) or {}).get("patterns") if patterns_key else None
    if patterns is None:  # the pattern list expired: extract again (cached chunks come back at once)
        Report.objects.filter(pk=report.pk, run=report.run).update(phase=Phase.EXTRACTING)
        report.phase = Phase.EXTRACTING
        launch_extraction(report)
        return
    digests = _digests(report)
    items = []
    if patterns:
        for chunk in by_count(report.pipeline_state.get("summaries", []), _assign_chunk_size(report)):
            key = item_key("assign", report, patterns_key, [[pk, digests.get(pk, "")] for pk in chunk])
            store.put(store.input_key(key), {"summaries": chunk, "patterns": patterns_key})
            items.append(key)
    _save_state(report, assignment_items=items)
    progress.set_phase(report.pk, Phase.ASSIGNING, total=len(items))
    _dispatch([assign_chunk.s(report.pk, report.run, key) for key in items], after_assignment.s(report.pk, report.run))


def _assign(report: Report, given: dict[str, Any]):
    """Compute one assignment item."""
    patterns = (store.get(store.result_key(given["patterns"])) or {}).get("patterns")
    if patterns is None:
        raise StageFailed("the pattern list expired from Redis; run the report again")
    items = load_items(given["summaries"])
    if report.engine == Report.Engine.RULES:
        return assign_with_rules(items, patterns)
    return assign_with_llm(items, patterns, report.model, _focus(report))


@shared_task(name="patterns.tasks.assign_chunk", acks_late=True)
def assign_chunk(report_id: int, run: int, item: str) -> dict[str, Any]:
    """Which flagged moments of one chunk of summaries belong to which pattern (queue llm)."""
    return _run_item(report_id, run, "assignment", item, _assign)


@shared_task(name="patterns.tasks.after_assignment", acks_late=True)
@_keeps_alive
def after_assignment(results: list[dict[str, Any]], report_id: int, run: int) -> None:
    """Count the chunks (below the threshold the statistics cover what was assigned), then finalize."""
    report = current(report_id, run)
    if report is None or report.phase != Phase.ASSIGNING:
        return
    items = report.pipeline_state.get("assignment_items", [])
    ok, failed = _chunk_outcomes(items, results)
    phases = phase_record(report, Phase.ASSIGNING, total=len(items), done=len(ok), failed=failed)
    state = dict(report.pipeline_state, assignment_ok=ok)
    if not meets(len(ok), len(items), chunks_needed()):
        state = note_partial(state, f"only {len(ok)} of {len(items)} assignment chunks succeeded (at least "
                                    f"{chunks_needed():.0%} needed): the statistics cover the sessions of the "
                                    f"chunks that did")
    if move(report, Phase.FINALIZING, phases=phases, pipeline_state=state):
        finalize(report)


@shared_task(name="patterns.tasks.finalize_report", acks_late=True)
def finalize_report(report_id: int, run: int) -> None:
    """Finalize again (a resumed report that stopped while computing its statistics)."""
    report = current(report_id, run)
    if report is not None and report.phase == Phase.FINALIZING:
        finalize(report)


def finalize(report: Report) -> None:
    """Statistics and ranking of the assigned patterns, stored; then video checks of blocking patterns."""
    with keeper.working_on(report.pk):
        state = report.pipeline_state
        patterns = (store.get(store.result_key(state.get("patterns_key", ""))) or {}).get("patterns", [])
        assignments = [a for k in state.get("assignment_ok", [])
                       for a in (store.get(store.result_key(k)) or {}).get("assignments", [])]
        rows = SessionSummary.objects.filter(pk__in=state.get("summaries", []))
        summaries = {pk: SummaryInput(pk, session_pk, as_written(summary))
                     for pk, session_pk, summary in rows.values_list("pk", "session_id", "summary") if summary}
        ranked = rank(patterns, assignments, summaries, analysed=len(summaries), rule_based=report.rule_based)
        store_patterns(report, ranked)
        progress.found(report.pk, [p.name for p in ranked])
        versions = {"engine": version_for(report.engine)}
        if move(report, Phase.VALIDATING, input_digest=state.get("input_digest", ""), versions=versions):
            launch_validation(report)


# -- phase 5: video checks of blocking patterns' examples -------------------------------------------------------


def launch_validation(report: Report) -> None:
    """Clip and check up to RECAP_REPORT_CLIPS_PER_PATTERN examples of each blocking pattern (render, then llm)."""
    examples = examples_to_check(report)
    header, already, failed = [], [], []
    for example in examples:
        label = f"{example.session.session_id} @ {example.seconds_from_start:.0f} s"
        action = current_action(example)
        if action is None:
            failed.append((label, "the summary no longer has this moment"))
            continue
        if action.get("validation"):
            already.append(label)
            continue
        try:
            clip = clip_for_action(example.summary, action)
        except (ClipRequestError, KeyError, TypeError, ValueError) as exc:
            note_failure(example.pk, str(exc))
            failed.append((label, f"no clip: {exc}"))
            continue
        header.append(chain(render_clip_by_id.si(clip.pk),
                            validate_example.si(report.pk, report.run, example.pk, clip.pk)))
    _save_state(report, validation_planned={"total": len(examples), "already": already, "failed": failed})
    progress.set_phase(report.pk, Phase.VALIDATING, total=len(examples))
    _dispatch(header, after_validation.s(report.pk, report.run))


@shared_task(name="patterns.tasks.validate_example", bind=True, acks_late=True, max_retries=120)
def validate_example(self, report_id: int, run: int, example_id: int, clip_pk: int) -> dict[str, Any]:
    """Check one example on its rendered clip (queue llm); never raises, so the chord always completes."""
    report = current(report_id, run)
    example = PatternExample.objects.select_related("summary__session", "session").filter(pk=example_id).first()
    if report is None or example is None or example.summary is None:
        return {"item": example_id, "ok": False, "reason": "stopped"}
    with keeper.working_on(report_id):
        label = f"{example.session.session_id} @ {example.seconds_from_start:.0f} s"
        action = current_action(example)
        clip = Clip.objects.filter(pk=clip_pk).first()
        if action is None or clip is None:
            outcome = {"item": label, "ok": False, "reason": "the moment or its clip is gone"}
        elif action.get("validation"):
            outcome = {"item": label, "ok": True, "reason": "already checked"}
        elif clip.state in (Clip.State.PENDING, Clip.State.RENDERING) and self.request.retries < self.max_retries:
            raise self.retry(countdown=5)  # another chain renders the same clip: look once it is done
        else:
            try:
                result = validate_action(example.summary, action, clip)
                ok = result.state == "validated"
                outcome = {"item": label, "ok": ok, "reason": result.reason if not ok else result.verdict}
                if not ok:
                    note_failure(example.pk, f"{result.state}: {result.reason}")
            except Exception as exc:
                log.exception("report %s: validating example %s failed", report_id, example_id)
                outcome = {"item": label, "ok": False, "reason": f"{exc.__class__.__name__}: {exc}"}
        progress.item_finished(report_id, "done" if outcome["ok"] else "failed", worker=_worker())
    return outcome


@shared_task(name="patterns.tasks.after_validation", acks_late=True)
@_keeps_alive
def after_validation(results: list[dict[str, Any]], report_id: int, run: int) -> None:
    """Copy the verdicts onto the examples and patterns, and end the report."""
    report = current(report_id, run)
    if report is None or report.phase != Phase.VALIDATING:
        return
    planned = report.pipeline_state.get("validation_planned", {})
    failed = [tuple(f) for f in planned.get("failed", [])]
    failed += [(r.get("item"), r.get("reason") or "unknown")
               for r in results if isinstance(r, dict) and not r.get("ok")]
    done = len(planned.get("already", [])) + sum(1 for r in results if isinstance(r, dict) and r.get("ok"))
    total = int(planned.get("total", 0))
    skips = []
    if not total:
        why = "no clips asked for (clips per pattern: 0)" if not report.clips_per_pattern else "no blocking pattern"
        skips = [("validation", why)]
    phases = phase_record(report, Phase.VALIDATING, total=total, done=done, failed=failed, skipped=skips)
    refresh_verdicts(report)
    state = report.pipeline_state
    if not meets(done, total, chunks_needed()):
        state = note_partial(state, f"only {done} of {total} examples could be checked on video")
    report.pipeline_state = state
    count = report.patterns.count()
    analysed = report.sessions_analysed
    if count:
        blocking = report.patterns.filter(kind="blocking").count()
        message = f"{count} pattern{'s' if count != 1 else ''} ({blocking} blocking) in {analysed} sessions."
    else:
        message = f"No recurring problem in {analysed} sessions."
    partial = state.get("partial") or []
    if partial:
        message += " Partial: " + "; ".join(partial) + "."
    finish(report, final_status(report), message, phases=phases, pipeline_state=state)


# -- resuming ---------------------------------------------------------------------------------------------------


def launch(report: Report) -> None:
    """(Re)start the report's current phase; finished work items are reused."""
    launchers = {
        Phase.SELECTING: lambda r: start_report.delay(r.pk, r.run),
        Phase.SUMMARIZING: launch_summaries,
        Phase.EXTRACTING: launch_extraction,
        Phase.COMBINING: launch_combine,
        Phase.ASSIGNING: launch_assignment,
        Phase.FINALIZING: lambda r: finalize_report.delay(r.pk, r.run),
        Phase.VALIDATING: launch_validation,
    }
    launcher = launchers.get(report.phase)
    if launcher is not None:
        launcher(report)


def resume(report: Report) -> bool:
    """Take over a stalled report with a new run from the phase it is in; a phase that keeps stalling ends it."""
    resumes = dict(report.pipeline_state.get("resumes", {}))
    resumes[report.phase] = resumes.get(report.phase, 0) + 1
    if resumes[report.phase] > MAX_RESUMES:
        status = Status.PARTIAL if report.patterns.exists() else Status.FAILED
        return finish(report, status, f"The {report.phase} phase stopped making progress {MAX_RESUMES} times "
                                      "(workers dying or unreachable); giving up rather than looping.")
    state = {**report.pipeline_state, "resumes": resumes}
    new_run = report.run + 1
    taken = Report.objects.filter(pk=report.pk, run=report.run, status__in=(Status.QUEUED, Status.RUNNING)).update(
        run=new_run, pipeline_state=state)
    if not taken:
        return False
    report.run, report.pipeline_state = new_run, state
    log.warning("report %s: resuming the %s phase (run %s)", report.pk, report.phase, new_run)
    launch(report)
    return True


@shared_task(name="patterns.tasks.resume_stalled_reports")
def resume_stalled_reports() -> list[int]:
    """Resume every unfinished report none of whose tasks ran for RECAP_REPORT_STALL_SECONDS.

    Beat runs it every minute; a starting worker runs it once the leases of a dead one have lapsed, and while
    reports are unfinished it looks again every RECAP_REPORT_STALL_SECONDS (one such chain at a time).
    """
    resumed = []
    now = time.time()
    unfinished = list(Report.objects.filter(status__in=(Status.QUEUED, Status.RUNNING)).select_related("project"))
    for report in unfinished:
        if store.client().exists(alive_key(report.pk)):
            continue
        last = max(progress.read(report.pk).updated, report.updated_at.timestamp())
        if now - last >= stall_seconds() and resume(report):
            resumed.append(report.pk)
    if unfinished and store.client().set(store.key("watchdog"), 1, nx=True, ex=max(1, stall_seconds() - 1)):
        resume_stalled_reports.apply_async(countdown=stall_seconds())
    return resumed


@worker_ready.connect(dispatch_uid="patterns.resume_on_worker_start")
def _resume_on_worker_start(**_: Any) -> None:
    """A worker (re)starting while reports are unfinished looks for any a dead worker left, once its leases lapsed."""
    try:
        if Report.objects.filter(status__in=(Status.QUEUED, Status.RUNNING)).exists():
            resume_stalled_reports.apply_async(countdown=stall_seconds() + 1)
    except Exception:  # the database or broker being away must not stop the worker
        log.exception("could not queue the check for stalled reports")
    finally:
        connection.close()  # the worker's main process runs no tasks: keep no connection open
