"""Crash consistency: whatever step an ingest or a delete dies at, readers find every document the index lists.

The simulated crashes stop a run before each of its write steps in turn (each Chroma write call, each file
operation of the keyword index save and of the document copies, see crashkit.Steps): what a kill -9 between two
steps leaves. After each crash, and after the next run, a new reader built the way `python -m rag ask` builds it
(and a reader running all along, like the app) must load exactly the listed documents' chunks, retrieve each
listed document by a word only its version contains, and find its copy in INDEX/docs. Real SIGKILLs: one at the
probe's point of the first write group, then asked through `python -m rag ask` (the answers must cite each
listed document), and one at a random point of a large run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT
from crashkit import (
    V1, V2, Crash, Remembering, Steps, age, at_least, check_reader, content_hash, copies, copy_index, doc,
    ingestor_for, live_reader, new_reader, question, settled, step_kinds, token, v1_index, visible_state,
)

from ingest.pipeline import Ingestor, Shard, source_id
from rag.bm25 import BM25Cache
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import ChunkStore, bm25_folder



@pytest.fixture(scope="module")
def model(embedder: Embedder) -> Embedder:
    return Remembering(embedder)  # type: ignore[return-value]


# Held whole (the default for documents of ordinary size), or streamed: written two chunks at a time as they are
# embedded, as the ingest does with a document of more than Ingestor.stream_chunks chunks.
WRITE_MODES = {"held whole": {}, "streamed": {"stream_chunks": 1, "stream_group": 2}}


@pytest.mark.parametrize("mode", list(WRITE_MODES))
def test_a_crash_at_any_write_step_of_an_ingest_leaves_every_listed_document_answerable(
    tmp_path: Path, model: Embedder, mode: str
) -> None:
    options = WRITE_MODES[mode]
    template, docs = v1_index(tmp_path, "template", model)
    before = {Path(src).name: state for src, state in visible_state(ChunkStore(
        template, model_name=model.name, dimension=model.dimension)).items()}
    settings = copy_index(template, tmp_path / "index-clean")
    clean = ingestor_for(settings, model, **options)
    with Steps(settings.index).installed(clean.store) as steps:
        report = clean.run([docs])
    after = {Path(src).name: state for src, state in visible_state(clean.store).items()}
    assert sorted(Path(p).name for p in report.updated) == ["doc0.md", "doc1.md"]
    assert sorted(Path(p).name for p in report.added) == ["doc3.md", "doc4.md"]
    assert check_reader(new_reader(settings, model), "clean run", ask=True) == V2
    # Every kind of write step is among those crashed at, in two write groups: markers, chunks, records, old
    # chunks, generation, markers removed; the four new versions' copies; the keyword index save (written aside,
    # swapped in).
    assert at_least(step_kinds(steps.labels), {
        "chroma documents.upsert": 4, "chroma chunks.upsert": 2, "chroma chunks.delete": 1,
        "chroma documents.modify": 2, "chroma documents.delete": 2,
        "copy written": 4, "keyword index written": 2, "keyword index renamed": 2,
    }), steps.labels
    if mode == "streamed":  # each new version (4 chunks) written in two calls before its switch
        assert step_kinds(steps.labels)["chroma chunks.upsert"] >= 8, steps.labels
    unused: dict[str, set[str]] = {}
    for crash_at in range(1, len(steps.labels) + 1):
        when = f"crash before step {crash_at} ({steps.labels[crash_at - 1]})"
        s = copy_index(template, tmp_path / f"index-{crash_at}")
        live = live_reader(s, model)
        dying = ingestor_for(s, model, **options)
        with Steps(s.index, crash_at).installed(dying.store), pytest.raises(Crash):
            dying.run([docs])

        # A restart: a new reader finds every listed document, each of its old or its new version, whole.
        versions = check_reader(new_reader(s, model), when)
        assert set(versions) >= set(V1) and all(versions[n] in (V1.get(n), V2[n]) for n in versions), (when, versions)
        assert check_reader(settled(live), f"{when} (a reader running all along)") == versions
        seen = visible_state(ChunkStore(s, model_name=model.name, dimension=model.dimension, create=False))
        for src, state in seen.items():
            name = Path(src).name
            assert state in (before.get(name), after.get(name)), f"{when}: {name} is a mix of versions"

        again = ingestor_for(s, model, **options)
        assert not again.run([docs]).failed
        assert check_reader(new_reader(s, model), f"{when}, then the next run") == V2
        assert check_reader(settled(live), f"{when}, then the next run (a reader running all along)") == V2
        assert again.store.pending() == []
        assert again.store.count() == sum(r.chunks for r in again.store.list_documents())
        present, wanted = copies(s)
        assert wanted <= present, when
        unused[when] = {n for n in present - wanted if not n.endswith(".tmp")}  # a crashed copy's leftover stays
    # The replaced versions' copies are swept (checked last, so that a reader's failure shows first).
    assert not any(unused.values()), {when: names for when, names in unused.items() if names}


def test_a_crash_while_recovering_from_a_crash_leaves_every_listed_document_answerable(
    tmp_path: Path, model: Embedder
) -> None:
    template, docs = v1_index(tmp_path, "template", model)
    settings = copy_index(template, tmp_path / "index-clean")
    with Steps(settings.index).installed((clean := ingestor_for(settings, model)).store) as steps:
        clean.run([docs])
    # The first run dies where the probe killed it: its first group switched, old chunks gone, generation not moved.
    first_death = steps.labels.index("chroma documents.modify") + 1
    for crash_at in range(1, 5):  # the recovery's steps (generation, markers), then the first steps of new work
        s = copy_index(template, tmp_path / f"index-{crash_at}")
        with Steps(s.index, first_death).installed((dying := ingestor_for(s, model)).store), pytest.raises(Crash):
            dying.run([docs])
        with Steps(s.index, crash_at).installed((again := ingestor_for(s, model)).store) as second:
            with pytest.raises(Crash):
                again.run([docs])
        when = f"the recovering run killed before its step {crash_at} ({second.labels[-1]})"
        assert check_reader(new_reader(s, model), when) == {**V1, "doc0.md": 2, "doc1.md": 2}
        assert not ingestor_for(s, model).run([docs]).failed
        assert check_reader(new_reader(s, model), f"{when}, then the next run") == V2


def test_a_crash_at_any_write_step_of_a_delete_leaves_every_listed_document_answerable(
    tmp_path: Path, model: Embedder
) -> None:
    template, docs = v1_index(tmp_path, "template", model)
    assert not ingestor_for(template, model).run([docs]).failed  # version 2: doc0-doc4
    age(template.index / "docs")
    (docs / "doc1.md").unlink()
    expected = {n: v for n, v in V2.items() if n != "doc1.md"}

    settings = copy_index(template, tmp_path / "index-clean")
    clean = ingestor_for(settings, model)
    with Steps(settings.index).installed(clean.store) as steps:
        clean.delete("doc1.md")
    assert check_reader(new_reader(settings, model), "clean delete", ask=True) == expected
    assert at_least(step_kinds(steps.labels), {
        "chroma documents.upsert": 1, "chroma documents.delete": 2, "chroma chunks.delete": 1,
        "chroma documents.modify": 1, "copy removed": 1, "keyword index written": 2, "keyword index renamed": 2,
    }), steps.labels
    unused: dict[str, set[str]] = {}
    for crash_at in range(1, len(steps.labels) + 1):
        when = f"delete, crash before step {crash_at} ({steps.labels[crash_at - 1]})"
        s = copy_index(template, tmp_path / f"index-{crash_at}")
        live = live_reader(s, model)
        dying = ingestor_for(s, model)
        with Steps(s.index, crash_at).installed(dying.store), pytest.raises(Crash):
            dying.delete("doc1.md")
        versions = check_reader(new_reader(s, model), when)
        assert versions in (V2, expected), (when, versions)
        assert check_reader(settled(live), f"{when} (a reader running all along)") == versions

        again = ingestor_for(s, model)
        if "doc1.md" in versions:
            again.delete("doc1.md")  # the user deletes it again; the next ingest finishes the rest
        assert not again.run([docs]).failed
        assert check_reader(new_reader(s, model), f"{when}, then the next run") == expected
        assert check_reader(settled(live), f"{when}, then the next run (a reader running all along)") == expected
        assert again.store.pending() == []
        assert again.store.count() == sum(r.chunks for r in again.store.list_documents())
        present, wanted = copies(s)
        assert wanted <= present, when
        unused[when] = present - wanted
    assert not any(unused.values()), {when: names for when, names in unused.items() if names}


def test_a_listed_document_without_its_copy_gets_it_back_and_unused_copies_are_swept(
    tmp_path: Path, model: Embedder
) -> None:
    settings, docs = v1_index(tmp_path, "folder", model)
    folder = settings.index / "docs"
    (folder / f"{content_hash(2, 1)}.md").unlink()  # lost, e.g. by an earlier version killed before the copy
    stale = [folder / f"{'ab' * 32}.pdf", folder / f"{'cd' * 32}.md.4242.tmp", folder / f"{'ef' * 32}"]
    fresh = [folder / f"{'12' * 32}.html", folder / f"{'34' * 32}.md.4243.tmp"]
    for path in stale + fresh:
        path.write_bytes(b"left by an interrupted run")
    age(folder)
    for path in fresh:
        path.touch()  # as if another process had kept it a moment ago, before switching its document to it
    foreign = folder / "notes.txt"
    foreign.write_text("not a copy", encoding="utf-8")
    os.utime(foreign, (0, 0))

    report = ingestor_for(settings, model).run([docs])
    assert sorted(Path(p).name for p in report.unchanged) == ["doc2.md"]
    present, wanted = copies(settings)
    assert present == wanted | {p.name for p in fresh} | {"notes.txt"}
    assert (folder / f"{content_hash(2, 1)}.md").read_text(encoding="utf-8") == doc(2, 1)
    assert not any(p.exists() for p in stale)
    assert f"{content_hash(0, 1)}.md" not in present  # the copy of the version replaced, once old enough
    assert check_reader(new_reader(settings, model), "after the run") == V2


@pytest.mark.parametrize("first", ["a new reader", "the next run"])
def test_a_keyword_index_saved_from_another_registry_is_not_used_and_is_replaced(
    tmp_path: Path, model: Embedder, first: str
) -> None:
    """What a run of an earlier version left when killed between removing its markers and moving the generation:
    the saved keyword index claims the current generation but lacks the documents written last. A new reader
    does not use it; the next run (every file unchanged) replaces it; a reader running all along drops it."""
    settings, docs = v1_index(tmp_path, "stale", model)
    folder = bm25_folder(settings)
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    store = ChunkStore(settings, model_name=model.name, dimension=model.dimension)
    generation = store.generation()
    live = live_reader(settings, model)
    assert not ingestor_for(settings, model).run([docs]).failed
    shutil.rmtree(folder)
    folder.mkdir()
    for name, data in saved.items():
        (folder / name).write_bytes(data)
    store.documents.modify(metadata={"generation": generation})  # the live reader's index claims it again

    if first == "a new reader":
        assert check_reader(new_reader(settings, model), "a new reader of the stale index") == V2
    report = ingestor_for(settings, model).run([docs])
    assert sorted(Path(p).name for p in report.unchanged) == sorted(V2) and not report.added + report.updated
    assert json.loads((folder / "chunks.json").read_text(encoding="utf-8"))["generation"] == store.generation()
    if first == "the next run":
        assert store.generation() != generation  # the index it replaced claimed this one
    assert check_reader(new_reader(settings, model), "after the next run") == V2
    assert check_reader(settled(live), "after the next run (a reader running all along)") == V2


# Test code run in a child process: the real ingest, killed with SIGKILL right after one step of its first write
# group (no hook in the product: the step is wrapped here).
_KILL_AFTER = """
import os, signal, sys
from rag.store import ChunkStore, bm25_folder
real = getattr(ChunkStore, sys.argv[1])
def then_die(self, *args, **kwargs):
    out = real(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
    return out
setattr(ChunkStore, sys.argv[1], then_die)
from ingest.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


def test_kill_9_after_the_first_write_group_drops_old_chunks_then_ask_finds_every_listed_document(
    tmp_path: Path, model: Embedder
) -> None:
    """The probe's point: the first group (an updated and a new document) switched, its old chunks deleted, the
    generation not moved yet, on an index with a saved keyword index."""
    settings, docs = v1_index(tmp_path, "kill", model, update=(0,), add=(3,))
    env = {**os.environ, "SECTORCHAT_WRITE_BATCH": "8", "SECTORCHAT_INDEX": str(settings.index)}
    proc = subprocess.run([sys.executable, "-c", _KILL_AFTER, "_drop_invisible", str(docs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr

    reader = new_reader(settings, model)
    listed = {Path(r.source).name: r for r in reader.store.list_documents()}
    versions = {"doc0.md": 2, "doc1.md": 1, "doc2.md": 1, "doc3.md": 2}
    assert {n: 2 if r.content_hash == content_hash(int(n[3]), 2) else 1 for n, r in listed.items()} == versions
    questions = tmp_path / "questions.txt"
    questions.write_text("".join(question(int(n[3]), v) + "\n" for n, v in versions.items()), encoding="utf-8")
    asked = subprocess.run([sys.executable, "-m", "rag", "ask", "--batch", str(questions), "--json"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=300)
    assert asked.returncode == 0, asked.stdout + asked.stderr
    answers = [json.loads(line) for line in asked.stdout.splitlines()]
    assert [[Path(c["source"]).name for c in a["citations"] if token(int(n[3]), v) in c["quote"]]
            for a, (n, v) in zip(answers, versions.items(), strict=True)] == [[n] for n in versions], answers
    assert check_reader(reader, "killed after the first group's old chunks went") == versions

    assert not ingestor_for(settings, model).run([docs]).failed
    assert check_reader(new_reader(settings, model), "then the next run") == versions


def _invariants(index: Path, embedder: Embedder) -> dict[str, tuple[str, list[str]]]:
    s = Settings(index=index)
    return visible_state(ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension, create=False))


def test_kill_9_in_the_middle_of_a_large_run_then_the_rerun_finishes(tmp_path: Path, embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(80):
        (docs / f"doc{i:03}.md").write_text(doc(i, 1), encoding="utf-8")
    index = tmp_path / "index"
    env = {**os.environ, "SECTORCHAT_WRITE_BATCH": "12", "SECTORCHAT_INDEX": str(index)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(docs), "-v"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    added = 0
    deadline = time.monotonic() + 240
    for line in proc.stdout:  # the run logs "Added <file>" as each group is written
        if line.startswith("INFO ingest.pipeline: Added"):
            added += 1
            if added >= 12:
                proc.send_signal(signal.SIGKILL)
                break
        assert time.monotonic() < deadline, "the ingest did not get going"
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    seen = _invariants(index, embedder)
    assert 12 <= len(seen) < 80  # part of the corpus is in, each document of it whole
    settings = Settings(index=index)
    reader = new_reader(settings, embedder)  # a new reader finds exactly the documents in, each with its copy
    keyword = reader.retriever.bm25.get(reader.store)
    assert Counter(i.source for i in keyword.infos) == Counter({s: len(t) for s, (_h, t) in seen.items()})
    assert all((index / "docs" / f"{h}.md").is_file() for h, _t in seen.values())

    rerun = subprocess.run([sys.executable, "-m", "ingest", str(docs)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    summary = rerun.stdout.splitlines()[0]
    assert f"{80 - len(seen)} added, 0 updated, {len(seen)} unchanged, 0 failed" in summary
    final = _invariants(index, embedder)
    assert len(final) == 80
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=False)
    assert store.pending() == []
    assert store.count() == sum(r.chunks for r in store.list_documents())
    assert Counter(Path(s).name for s in final) == Counter(f"doc{i:03}.md" for i in range(80))
    bm25 = BM25Cache(None).get(store)
    assert len(bm25) == store.count()
    fresh = new_reader(settings, embedder)
    assert len(fresh.retriever.bm25.get(fresh.store)) == store.count()
    present, wanted = copies(settings)
    assert len(wanted) == 80 and wanted <= present


def test_shards_split_the_files_between_them(tmp_path: Path, make_ingestor: Callable[..., Ingestor]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"doc{i:02}.md").write_text(doc(i, 1), encoding="utf-8")
    ingestor = make_ingestor(Settings(index=tmp_path / "index"))
    one = ingestor.run([docs], shard=Shard.parse("1/2"))
    two = ingestor.run([docs], shard=Shard.parse("2/2"))
    assert one.unchanged == [] and two.unchanged == []
    assert sorted(one.added + two.added) == sorted(str(p) for p in docs.iterdir())
    assert 0 < len(one.added) < 12
    assert all(Shard(1, 2).owns(source_id(Path(p))) for p in one.added)
    assert all(Shard(2, 2).owns(source_id(Path(p))) for p in two.added)
    assert ingestor.store.count() == sum(r.chunks for r in ingestor.store.list_documents())


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "1"])
def test_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--shard"):
        Shard.parse(text)


def test_automatic_workers_start_processes_only_for_a_run_worth_it() -> None:
    from ingest.pipeline import AUTO_PARALLEL_BYTES, auto_workers

    assert auto_workers(AUTO_PARALLEL_BYTES - 1, 2) == 1
    assert auto_workers(AUTO_PARALLEL_BYTES, 2) == 2
    assert auto_workers(10 * AUTO_PARALLEL_BYTES, 8) == 8
    assert auto_workers(10 * AUTO_PARALLEL_BYTES, 1) == 1
    assert auto_workers(10 * AUTO_PARALLEL_BYTES, 8, encoder_scales=False) == 1  # torch already uses every core
    from rag.embeddings import SentenceTransformerEmbeddings
    from rag.use_embeddings import UniversalSentenceEncoderEmbeddings

    assert UniversalSentenceEncoderEmbeddings.scales_with_processes is True
    assert not hasattr(SentenceTransformerEmbeddings, "scales_with_processes")
