"""The sectorchat web app (Gradio): wires the UI to ingest/, rag/ and ui/; nothing happens on import."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings, load_settings
from rag.errors import SectorChatError
from rag.types import Answer, Filters

if TYPE_CHECKING:
    from ingest.pipeline import IngestProgress

logger = logging.getLogger("sectorchat.app")

CORPUS = Path(__file__).resolve().parent / "corpus"
DOC_COLUMNS = ["Title", "Company", "Form", "Period", "Type", "Date", "Language", "Pages", "Chunks", "Added", "File",
               "Corrected"]
# The edit form's fields, in order (the same checks as `python -m ingest --set`: ingest.corrections).
EDIT_FIELDS = ("title", "company", "tickers", "form", "doc_type", "fiscal_year", "period_end", "period_type", "date",
               "language")
RESULT_COLUMNS = ["File", "Result", "Reason"]
EXAMPLES = [
    "How much did Chinese license-out deals bring upfront in 2025?",
    "How many more license-out deals did Chinese drugmakers conclude in 2025 than in 2024?",
    "What revenue did the leading CXO company forecast in its 2025 earnings pre-announcement?",
    "2024年中国药企达成了多少笔对外授权交易？",
    "What were Lanting Biopharma's finance costs in 2025?",
]
CSS = """
.sources mark { background: #fff3a3; padding: 0 2px; }
.source-meta { color: #666; font-size: 0.85em; margin: 2px 0 4px; }
.source-text { white-space: normal; border-left: 3px solid #ccc; padding-left: 8px; margin: 0; }
"""


class App:
    """The app's state: one assistant and one ingestor sharing the embedding model, built at start-up."""

    def __init__(self, settings: Settings) -> None:
        from ingest.pipeline import Ingestor
        from rag.assistant import build_assistant

        self.settings = settings
        self.secrets = secrets_of(settings)
        self.ingestor = Ingestor.from_settings(settings)
        self.status = ""
        self.sweep_uploads()
        if not self.ingestor.store.list_documents():
            report = self.ingestor.run([CORPUS])
            self.status = (f"Built the index from the bundled corpus: {len(report.added)} documents, "
                           f"{report.chunks_written} chunks in {report.seconds:.1f} s.")
        self.assistant = build_assistant(settings, embedder=self.ingestor.embedder)

    @property
    def uploads(self) -> Path:
        return self.settings.index / "uploads"

    # -- chat ----------------------------------------------------------------------------------------------
    def filters(self, doc_types: list[str] | None, company: str, date_from: str, date_to: str) -> Filters:
        """The filters of the chat's fields (Filters refuses a malformed one with a FilterError)."""
        return Filters(tuple(doc_types or ()), tuple(c.strip() for c in (company or "").split(",") if c.strip()),
                       (), (date_from or "").strip(), (date_to or "").strip())

    def chat_stream(self, message: str, history: list[tuple[str, str]], doc_types: list[str] | None = None,
                    company: str = "", date_from: str = "", date_to: str = "") -> Iterator[str | Answer]:
        """``stream_answer`` with the filters of the chat's fields; a field that cannot be used is the answer's
        error, as is any other failure."""
        try:
            filters = self.filters(doc_types, company, date_from, date_to)
        except SectorChatError as exc:
            yield Answer(question=message, answer="", refused=True, error=redact(str(exc), self.secrets))
            return
        yield from self.stream_answer(message, history, filters)

    def stream_answer(self, message: str, history: list[tuple[str, str]], filters: Filters) -> Iterator[str | Answer]:
        """The assistant's stream; any failure becomes a readable Answer, never a traceback. No secret of the
        settings reaches the user, whatever an endpoint's error message or a model's answer quotes."""
        try:
            for item in self.assistant.stream(message, history=history, filters=filters):
                yield redact(item, self.secrets) if isinstance(item, str) else self._redact_answer(item)
        except SectorChatError as exc:  # a setting or filter the user can fix: its message says how
            logger.info("Could not answer: %s", exc)
            yield Answer(question=message, answer="", refused=True, error=redact(str(exc), self.secrets))
        except Exception as exc:  # the app keeps serving whatever goes wrong
            logger.exception("Answering failed")
            yield Answer(question=message, answer="", refused=True,
                         error=redact(f"{type(exc).__name__}: {exc}", self.secrets))

    def _redact_answer(self, answer: Answer) -> Answer:
        return replace(answer, answer=redact(answer.answer, self.secrets), notice=redact(answer.notice, self.secrets),
                       error=redact(answer.error, self.secrets),
                       refusal_reason=redact(answer.refusal_reason, self.secrets))

    def doc_urls(self, sources: Iterable[str]) -> dict[str, str]:
        """Source → the URL of the index's copy (by content hash: no server path shows), for the given documents
        that have one (only the cited ones are looked up: the registry may hold thousands)."""
        from ui.serve import doc_url

        out = {}
        for source in dict.fromkeys(sources):
            r = self.ingestor.store.get_document(source)
            if r is not None and self.ingestor.record_copy(r).exists():
                out[r.source] = doc_url(r.content_hash)
        return out

    def copy_for(self, doc_id: str) -> tuple[Path, str] | None:
        """The index's copy of the document whose content hash is ``doc_id``, and its file name (for ui/serve)."""
        for r in self.ingestor.store.documents_with_hash(doc_id):
            return self.ingestor.record_copy(r), r.file_name or Path(r.source).name
        return None

    # -- documents -----------------------------------------------------------------------------------------
    def document_rows(self) -> list[list[object]]:
        from ui.render import documents_rows

        try:
            return documents_rows(self.ingestor.store.list_documents())
        except SectorChatError as exc:
            return [[f"Error: {exc}", "", "", "", "", "", "", ""]]

    def sweep_uploads(self) -> tuple[int, int]:
        """Remove what no document needs from the uploads folder: files that are no registered document's source
        (left by a kill mid-upload, or by an older version that never removed them) and empty folders."""
        from ui.uploads import sweep_orphans

        files, dirs = sweep_orphans(self.uploads, self.ingestor.known_sources())
        if files or dirs:
            logger.info("Swept %d orphaned upload file(s) and %d empty folder(s) from %s", files, dirs, self.uploads)
        return files, dirs

    def upload(self, paths: list[Path], progress: Any = None, *, replace: bool = False) -> list[list[str]]:
        """Check, store and ingest uploads. The same file again is the same document (stored content-addressed,
        it reads "unchanged"); the same bytes under another name are not added twice, the row says where they are.
        With ``replace``, a new version of an uploaded document (same file name, other bytes) replaces the older
        uploads of that name once it is ingested; without it, both are kept and the row says so.
        """
        from ui.render import plain
        from ui.uploads import store_uploads

        checked = store_uploads(paths, self.uploads, max_mb=self.settings.max_file_mb)
        rows = [[c.name, "failed", c.reason] for c in checked if c.stored is None]
        records = self.ingestor.store.list_documents()
        held = {r.content_hash: r for r in records}
        sources = {r.source for r in records}
        good: dict[Path, str] = {}
        batch: dict[str, str] = {}  # digest → the name it came under in this upload
        for c in checked:
            if c.stored is None:
                continue
            first = held.get(c.digest)
            if c.digest in batch:
                why = "" if batch[c.digest] == c.name else (
                    f"the same content is in this upload as {batch[c.digest]}; not added twice")
                rows.append([c.name, "unchanged", why])
                if batch[c.digest] != c.name:
                    self._forget_upload(c.stored)
            elif first is None or str(c.stored.resolve()) in sources:  # new, or this very file (ingest decides)
                good[c.stored] = c.name
                batch[c.digest] = c.name
            else:
                rows.append([c.name, "unchanged", f"the same content is already in the index as "
                                                  f"{Path(first.source).name}; not added again"])
                self._forget_upload(c.stored)
        if good:
            def report_progress(p: IngestProgress) -> None:
                if progress is not None:
                    progress(p.fraction, desc=p.describe())

            report = self.ingestor.run(list(good), progress=report_progress)
            by_path = {str(p): n for p, n in good.items()}
            for label, items in (("added", report.added), ("updated", report.updated),
                                 ("unchanged", report.unchanged)):
                rows += [[by_path.get(p, Path(p).name), label, ""] for p in items]
            rows += [[by_path.get(p, Path(p).name), "failed", why] for p, why in report.failed]
            for p, w in report.warnings:
                rows.append([by_path.get(p, Path(p).name), "warning", w])
            rows += self._older_versions([Path(p) for p in report.added], by_path, replace=replace)
        return [[plain(cell) for cell in row] for row in rows]  # a name or reason never forges a line

    def _older_versions(self, added: list[Path], names: dict[str, str], *, replace: bool) -> list[list[str]]:
        """Rows about earlier uploads with the name of a newly added one: replaced (deleted), or kept."""
        from ui.uploads import remove_upload

        rows: list[list[str]] = []
        uploads = self.uploads.resolve()
        records = self.ingestor.store.list_documents()
        for path in added:
            name = names.get(str(path), path.name)
            older = [r for r in records if r.source != str(path) and (r.file_name or Path(r.source).name) == name
                     and Path(r.source).resolve().is_relative_to(uploads)]
            for r in older:
                if replace:
                    source, _ = self.ingestor.delete(r.source)
                    remove_upload(source, self.uploads)
                    rows.append([name, "replaced", f"the earlier upload of this name (added {r.added_at[:16]}) "
                                                   "was deleted"])
                else:
                    rows.append([name, "kept both", f"an earlier upload of this name (added {r.added_at[:16]}) is "
                                                    "still in the index; tick 'Replace' to replace it"])
        return rows

    def _forget_upload(self, stored: Path) -> None:
        """Remove a stored upload that no document uses (a duplicate of another document's bytes)."""
        from ui.uploads import remove_upload

        if str(stored.resolve()) not in self.ingestor.known_sources():
            remove_upload(stored, self.uploads)

    def delete(self, choice: str, confirmed: bool) -> str:
        """Delete the document a delete label names (see ``file_choices``), or a unique file name or source id.
        A document the app stored under INDEX/uploads loses its file too. Returns the message (Markdown)."""
        from ui.labels import find_choice, shared_name
        from ui.render import md_escape
        from ui.uploads import remove_upload

        if not choice:
            return "Choose a document to delete."
        if not confirmed:
            return f"Tick the box to confirm that {md_escape(choice)} should be deleted."
        try:
            records = self.ingestor.store.list_documents()
            target = find_choice(records, choice)
            if target is None and (labels := shared_name(records, choice)):
                return (f"{md_escape(choice)} names {len(labels)} documents; choose one of: "
                        + "; ".join(md_escape(label) for label in labels))
            source, removed = self.ingestor.delete(target or choice)
        except SectorChatError as exc:
            return f"Error: {md_escape(str(exc))}"
        remove_upload(source, self.uploads)  # only a file the app stored under INDEX/uploads
        return f"Deleted {md_escape(Path(source).name)} ({removed} chunks)."

    # -- evals ---------------------------------------------------------------------------------------------
    def reports_dir(self) -> Path:
        return self.settings.index / "reports"

    def suite_choices(self) -> list[str]:
        from evals.runner import available_suites

        return [name for name, where in available_suites() if "not found" not in where]

    def run_evals(self, suites: list[str], limit: int | None, progress: Any = None) -> dict[str, Any]:
        """Run suites like `python -m evals run` and keep the report beside the index."""
        import datetime as dt
        import tempfile

        from evals.report import redact_report, write_report
        from evals.runner import run_all

        def on_progress(name: str, done: int, total: int) -> None:
            if progress is not None:
                progress(done / max(total, 1), desc=f"{name}: {done}/{total}")

        with tempfile.TemporaryDirectory(prefix="sectorchat-evals-") as tmp:
            report = run_all(suites, self.settings, work=Path(tmp), limit=limit, on_progress=on_progress,
                             embedder=self.ingestor.embedder)
        report = redact_report(report, self.secrets)
        write_report(report, self.reports_dir() / dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
        return report

    def history(self) -> list[dict[str, Any]]:
        """Metrics of every past run in the reports folder, oldest first (for the chart)."""
        import json

        rows = []
        for file in sorted(self.reports_dir().glob("*/report.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            for key in ("figure_accuracy", "figure_faithfulness", "recall_at_k", "mrr", "refusal_accuracy"):
                if key in data["metrics"]:
                    rows.append({"run": file.parent.name, "metric": key, "value": data["metrics"][key]})
        return rows

    def delete_labels(self) -> dict[str, str]:
        """Label → source id of every document (labels tell apart documents that share a file name)."""
        from ui.labels import delete_choices

        return delete_choices(self.ingestor.store.list_documents())

    def file_choices(self) -> list[str]:
        try:
            return list(self.delete_labels())
        except SectorChatError:
            return []

    def metadata_of(self, choice: str) -> list[str]:
        """The edit form's values for the document a label names ("" each when it names none)."""
        from ui.labels import find_choice

        try:
            records = self.ingestor.store.list_documents()
            source = find_choice(records, choice or "")
        except SectorChatError:
            return [""] * len(EDIT_FIELDS)
        record = next((r for r in records if r.source == source), None)
        if record is None:
            return [""] * len(EDIT_FIELDS)
        m = record.meta
        values = {"tickers": ", ".join(m.tickers), "fiscal_year": str(m.fiscal_year or "")}
        return [values.get(f, str(getattr(m, f) or "")) for f in EDIT_FIELDS]

    def set_metadata(self, choice: str, values: list[str]) -> str:
        """Save the edit form: the fields that differ from what is stored, through ``Ingestor.set_fields``.
        Returns the message (Markdown)."""
        from ui.labels import find_choice
        from ui.render import md_escape

        if not choice:
            return "Choose a document to edit."
        try:
            source = find_choice(self.ingestor.store.list_documents(), choice)
            if source is None:
                return f"No document {md_escape(choice)} in the index; refresh the list."
            now = dict(zip(EDIT_FIELDS, self.metadata_of(choice), strict=True))
            changed = {f: (v or "").strip() for f, v in zip(EDIT_FIELDS, values, strict=True)
                       if (v or "").strip() != now[f]}
            if not changed:
                return "Nothing changed."
            record = self.ingestor.set_fields(source, changed)
        except SectorChatError as exc:
            return f"Not saved: {md_escape(str(exc))}"
        return (f"Saved {md_escape(', '.join(changed))} of {md_escape(Path(record.source).name)}; kept when the "
                "file is ingested again.")


def build_ui(app: App) -> Any:
    """The Gradio Blocks: Chat and Documents tabs, and the `/chat` API endpoint."""
    import gradio as gr

    from ui.render import answer_markdown, sources_html, stream_markdown

    def respond(message: str, chat: list[dict[str, Any]], doc_types: list[str], company: str, date_from: str,
                date_to: str) -> Iterator[tuple[list[dict[str, Any]], str, str]]:
        if not (message or "").strip():
            yield chat, gr.skip(), ""
            return
        turns = _turns(chat)
        chat = [*chat, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        streamed = ""
        for item in app.chat_stream(message, turns, doc_types, company, date_from, date_to):
            if isinstance(item, str):
                streamed += item
                chat[-1] = {"role": "assistant", "content": stream_markdown(streamed)}
                yield chat, gr.skip(), ""
            else:
                chat[-1] = {"role": "assistant", "content": answer_markdown(item)}
                yield chat, sources_html(item, doc_url=app.doc_urls(c.source for c in item.citations)), ""

    def chat_api(message: str) -> Iterator[str]:
        """Ask a question; yields the answer text as it streams, then the answer with its figure check and
        numbered sources (Markdown)."""
        text = ""
        for item in app.chat_stream(message, []):
            if isinstance(item, str):
                text += item
                yield text
            else:
                yield answer_markdown(item) + "\n\n" + _sources_markdown(item)

    with gr.Blocks(title="sectorchat") as demo:
        gr.Markdown("# sectorchat\nCited answers about China's innovative-drug sector — every figure checked "
                    "against the passage it cites.")
        if app.status:
            gr.Markdown(app.status)
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Chat", height=520, elem_id="chatbot")
                    box = gr.Textbox(placeholder="Ask about deals, revenue, upfront payments… (English or 中文)",
                                     show_label=False, elem_id="question")
                    with gr.Row():
                        doc_types = gr.CheckboxGroup(["news", "filing", "other"], label="Document type")
                        company = gr.Textbox(label="Company or ticker", placeholder="e.g. Lanting")
                        date_from = gr.Textbox(label="From (YYYY-MM-DD)")
                        date_to = gr.Textbox(label="To (YYYY-MM-DD)")
                    gr.Examples(EXAMPLES, inputs=box, label="Try a question")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html(None), elem_id="sources")
            box.submit(respond, [box, chatbot, doc_types, company, date_from, date_to], [chatbot, sources, box],
                       api_visibility="private")
        with gr.Tab("Documents"):
            with gr.Row():
                files = gr.File(file_count="multiple", label="Add documents (PDF, HTML, Markdown, text, Word)",
                                file_types=[".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".docx"])
                with gr.Column(scale=0, min_width=220):
                    replace_box = gr.Checkbox(label="Replace earlier uploads of the same name", value=False,
                                              elem_id="replace")
                    upload_btn = gr.Button("Ingest", variant="primary")
            results = gr.Dataframe(headers=RESULT_COLUMNS, label="Last upload", interactive=False)
            table = gr.Dataframe(headers=DOC_COLUMNS, value=app.document_rows, label="Documents", interactive=False,
                                 elem_id="documents")
            with gr.Row():
                choice = gr.Dropdown(choices=app.file_choices(), label="Document to delete", allow_custom_value=True)
                confirm = gr.Checkbox(label="Yes, delete it and its chunks")
                delete_btn = gr.Button("Delete", variant="stop")
            delete_msg = gr.Markdown()
            with gr.Accordion("Correct a document's metadata", open=False):
                edit_choice = gr.Dropdown(choices=app.file_choices(), value=None, label="Document",
                                          allow_custom_value=True, elem_id="edit-choice")
                with gr.Row():
                    edit_boxes = [gr.Textbox(label=f.replace("_", " ").capitalize(), elem_id=f"edit-{f}")
                                  for f in EDIT_FIELDS]
                save_btn = gr.Button("Save corrections", elem_id="edit-save")
                edit_msg = gr.Markdown(elem_id="edit-msg")
            refresh_btn = gr.Button("Refresh")
        with gr.Tab("Evals"):
            with gr.Row():
                suite_pick = gr.CheckboxGroup(app.suite_choices(), label="Suites",
                                              value=[c for c in app.suite_choices() if c.endswith(".jsonl")])
                limit = gr.Number(value=50, precision=0, label="Questions per external suite")
                eval_btn = gr.Button("Run", variant="primary")
            metrics_table = gr.Dataframe(label="Metrics per suite", interactive=False)
            questions_table = gr.Dataframe(headers=["Suite", "Question", "Expected", "Answered", "Result", "Why"],
                                           label="Questions (failures first)", interactive=False, wrap=True)
            chart = gr.LinePlot(value=_history_frame(app.history()), x="run", y="value", color="metric",
                                label="Metrics over past runs", y_lim=[0, 1])

        def do_upload(paths: list[str] | None, replace_older: bool = False,
                      progress: Any = gr.Progress()) -> tuple[Any, Any, Any, Any]:  # noqa: B008
            rows = app.upload([Path(p) for p in paths or []], progress, replace=bool(replace_older))
            labels = app.file_choices()
            return rows, app.document_rows(), gr.update(choices=labels), gr.update(choices=labels)

        def do_delete(name: str, ok: bool) -> tuple[str, Any, Any, bool]:
            msg = app.delete(name, ok)
            return msg, app.document_rows(), gr.update(choices=app.file_choices(), value=None), False

        def do_evals(chosen: list[str], n: float | None, progress: Any = gr.Progress()) -> tuple[Any, Any, Any]:  # noqa: B008
            if not chosen:
                return [["Choose a suite."]], [], gr.skip()
            try:
                report = app.run_evals(chosen, int(n) if n else None, progress)
            except SectorChatError as exc:
                return [[f"Error: {exc}"]], [], gr.skip()
            return _metrics_rows(report), _question_rows(report), _history_frame(app.history())

        eval_btn.click(do_evals, [suite_pick, limit], [metrics_table, questions_table, chart], api_name="evals")
        upload_btn.click(do_upload, [files, replace_box], [results, table, choice, edit_choice], api_name="upload")
        delete_btn.click(do_delete, [choice, confirm], [delete_msg, table, choice, confirm], api_name="delete")
        def do_save(name: str, *values: str) -> tuple[str, Any]:
            return app.set_metadata(name, list(values)), app.document_rows()

        edit_choice.change(app.metadata_of, edit_choice, edit_boxes, api_visibility="private")
        save_btn.click(do_save, [edit_choice, *edit_boxes], [edit_msg, table], api_name="set_metadata")

        def both_choices() -> tuple[Any, Any]:
            labels = app.file_choices()
            return gr.update(choices=labels), gr.update(choices=labels)

        refresh_btn.click(app.document_rows, None, table, api_name="documents").then(
            both_choices, None, [choice, edit_choice], api_visibility="private")
        # the choices were read when the page was built: each visit reads them anew (others upload and delete)
        demo.load(both_choices, None, [choice, edit_choice], api_visibility="private")
        gr.api(chat_api, api_name="chat")
    return demo


def _metrics_rows(report: dict[str, Any]) -> Any:
    import pandas as pd

    from evals.harness import METRICS

    rows = []
    for name, s in [*report["suites"].items(), ("ALL", {"metrics": report["metrics"]})]:
        m = s["metrics"]
        rows.append({"suite": name, "n": int(m.get("questions", 0)),
                     **{k: round(m[k], 3) if k in m else None for k in METRICS},
                     "unverified": int(m.get("unverified_figures", 0)),
                     "p50 ms": round(m.get("latency_total_p50_ms", 0)), "p95 ms": round(m.get("latency_total_p95_ms", 0))})
    return pd.DataFrame(rows)


def _question_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for q in sorted(report["questions"], key=lambda q: (q["passed"], q["suite"], q["id"])):
        expected = ", ".join(f"{e['value']:g} {e['unit']}" for e in q["expected"]) or (
            "refusal" if q["kind"] == "unanswerable" else "")
        rows.append([q["suite"], q["question"], expected, q["answer"][:400], "pass" if q["passed"] else "FAIL",
                     "; ".join(q["why"])])
    return rows


def _history_frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows or [], columns=["run", "metric", "value"])


def _turns(chat: list[dict[str, Any]]) -> list[tuple[str, str]]:
    turns: list[tuple[str, str]] = []
    user = ""
    for m in chat:
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", "")
        text = content if isinstance(content, str) else str(content)
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", "")
        if role == "user":
            user = text
        elif role == "assistant" and user:
            turns.append((user, text))
            user = ""
    return turns


def _sources_markdown(answer: Answer) -> str:
    from ui.render import md_escape

    lines = []
    for c in answer.citations:
        page = f", page {c.page}" if c.page else ""
        lines.append(f"[{c.n}] {md_escape(c.title)} ({md_escape(Path(c.source).name)}{page}): "
                     f"\"{md_escape(c.quote)}\"")
    return "\n".join(lines)


def secrets_of(settings: Settings) -> list[str]:
    """The values that must never be shown or logged: the LLM endpoint's API key (when long enough to be told
    apart from ordinary words, as in rag.assistant)."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    return [key] if len(key) >= 8 else []


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


class _RedactingFilter(logging.Filter):
    """Rewrites each record, its arguments and its traceback included, without the secrets."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install_secret_filter(secrets: list[str], *, handlers: Iterable[logging.Handler] | None = None) -> None:
    """Redact ``secrets`` from whatever ``handlers`` write (default: every handler configured so far). A filter on a
    handler sees the records of all loggers that reach it, the libraries' (openai, httpx) included."""
    if not secrets:
        return
    if handlers is None:
        loggers = [logging.getLogger(), *(lg for lg in logging.root.manager.loggerDict.values()
                                          if isinstance(lg, logging.Logger))]
        handlers = {h for lg in loggers for h in lg.handlers}
    for handler in handlers:
        handler.addFilter(_RedactingFilter(secrets))


def parse_auth(value: str) -> list[tuple[str, str]]:
    """``user:password[,user:password]`` from SECTORCHAT_AUTH."""
    pairs = []
    for item in (value or "").split(","):
        if item.strip():
            user, sep, password = item.strip().partition(":")
            if not sep or not user or not password:
                raise SectorChatError("SECTORCHAT_AUTH must be user:password[,user:password]")
            pairs.append((user, password))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description="Serve the sectorchat web app.")
    parser.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860)")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default SECTORCHAT_INDEX or ./index)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        settings = load_settings(index=args.index)
        auth = parse_auth(os.environ.get("SECTORCHAT_AUTH", ""))
        install_secret_filter(secrets_of(settings))
        app = App(settings)
    except SectorChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host = args.host or os.environ.get("SECTORCHAT_HOST", "127.0.0.1")
    port = args.port or int(os.environ.get("SECTORCHAT_PORT", "7860"))
    if host not in ("127.0.0.1", "localhost", "::1") and not auth:
        logger.warning("Serving on %s without a login: anyone who can reach this machine can read and change the "
                       "index. Set SECTORCHAT_AUTH=user:password.", host)
    if app.status:
        print(app.status)
    from ui.serve import make_route

    demo = build_ui(app)
    demo.queue(default_concurrency_limit=4)
    # Copies are served by our route alone (downloads, PDFs inline), never by Gradio's file route: an HTML copy
    # served inline would run on the app's origin with the user's login.
    demo.launch(server_name=host, server_port=port, auth=auth or None, show_error=False, css=CSS,
                blocked_paths=[str(settings.index.resolve())],
                app_kwargs={"routes": [make_route(app.copy_for, login=bool(auth))]},
                max_file_size=f"{int(settings.max_file_mb * 1024)}kb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
