"""Uploads are content-addressed, deleted with their document, and swept of orphans on start: counts on disk and
in the index, with the real app driven by gradio_client (and the storage functions on their own)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apprunner import AppProcess, app_client, running_app
from conftest import write_pdf

CORPUS_DOCS = 2  # the bundled corpus the app indexes on first start


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def _dirs(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_dir() and not p.is_symlink())


# -- the storage functions -----------------------------------------------------------------------------------------
def test_the_same_bytes_land_in_one_folder_and_the_same_file_on_one_path(tmp_path: Path) -> None:
    from ui.uploads import store_uploads

    folder = tmp_path / "uploads"
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "note.md").write_text("Acme received US$5 million.\n", encoding="utf-8")
    (b / "note.md").write_text("Acme received US$5 million.\n", encoding="utf-8")  # the same bytes elsewhere
    (b / "renamed.md").write_text("Acme received US$5 million.\n", encoding="utf-8")
    (a / "other.md").write_text("Acme received US$6 million.\n", encoding="utf-8")
    first = store_uploads([a / "note.md"], folder, max_mb=1)
    again = store_uploads([b / "note.md", b / "renamed.md", a / "other.md"], folder, max_mb=1)
    d5, d6 = _digest(b"Acme received US$5 million.\n"), _digest(b"Acme received US$6 million.\n")
    assert [c.stored for c in first] == [folder / d5[:32] / "note.md"]
    assert [c.stored for c in again] == [folder / d5[:32] / "note.md", folder / d5[:32] / "renamed.md",
                                         folder / d6[:32] / "other.md"]
    assert [c.digest for c in again] == [d5, d5, d6]
    assert _files(folder) == sorted([f"{d5[:32]}/note.md", f"{d5[:32]}/renamed.md", f"{d6[:32]}/other.md"])


@pytest.mark.parametrize("left", [b"", b"Acme rec", b"Acme received US$9 million.\n"])
def test_a_copy_cut_short_or_changed_is_written_again(tmp_path: Path, left: bytes) -> None:
    from ui.uploads import store_uploads

    folder = tmp_path / "uploads"
    data = b"Acme received US$5 million.\n"
    (tmp_path / "note.md").write_bytes(data)
    dest = folder / _digest(data)[:32] / "note.md"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(left)  # what a kill during the copy leaves behind
    [checked] = store_uploads([tmp_path / "note.md"], folder, max_mb=1)
    assert checked.stored == dest and dest.read_bytes() == data
    assert _files(folder) == [f"{_digest(data)[:32]}/note.md"]  # no temporary file left


def test_remove_upload_takes_the_file_and_its_folder_once_empty(tmp_path: Path) -> None:
    from ui.uploads import remove_upload

    folder = tmp_path / "uploads"
    (folder / "d1").mkdir(parents=True)
    (folder / "d1" / "a.md").write_text("a", encoding="utf-8")
    (folder / "d1" / "b.md").write_text("b", encoding="utf-8")
    outside = tmp_path / "corpus" / "c.md"
    outside.parent.mkdir()
    outside.write_text("c", encoding="utf-8")
    assert remove_upload(folder / "d1" / "a.md", folder) is True
    assert _files(folder) == ["d1/b.md"]  # the folder stays: another name of the same bytes is in it
    assert remove_upload(str(folder / "d1" / "b.md"), folder) is True
    assert _files(folder) == [] and _dirs(folder) == [] and folder.is_dir()
    for elsewhere in (outside, folder / ".." / "corpus" / "c.md", folder):
        assert remove_upload(elsewhere, folder) is False
    assert outside.read_text(encoding="utf-8") == "c" and folder.is_dir()


def test_sweep_removes_what_no_document_holds(tmp_path: Path) -> None:
    from ui.uploads import sweep_orphans

    folder = tmp_path / "uploads"
    kept = [folder / "k1" / "kept.md", folder / "k2" / "kept.pdf"]
    orphans = [folder / "k1" / "orphan.md", folder / "o1" / "orphan.txt", folder / "o1" / ".part-0a1b",
               folder / "0123456789ab" / "old-layout.md"]
    for path in kept + orphans:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (folder / "empty").mkdir()
    (folder / "deep" / "er" / "est").mkdir(parents=True)
    target = tmp_path / "outside.md"
    target.write_text("mine", encoding="utf-8")
    (tmp_path / "outside-dir").mkdir()
    (tmp_path / "outside-dir" / "keep.md").write_text("mine", encoding="utf-8")
    os.symlink(target, folder / "link.md")
    os.symlink(tmp_path / "outside-dir", folder / "linked-dir")
    files, dirs = sweep_orphans(folder, [str(p) for p in kept])
    assert (files, dirs) == (len(orphans) + 2, 6)  # + two links; o1, 0123456789ab, empty, deep, er, est
    assert _files(folder) == ["k1/kept.md", "k2/kept.pdf"] and _dirs(folder) == ["k1", "k2"]
    assert target.read_text(encoding="utf-8") == "mine" and (tmp_path / "outside-dir" / "keep.md").exists()
    assert sweep_orphans(folder, [str(p) for p in kept]) == (0, 0)
    assert sweep_orphans(tmp_path / "none", []) == (0, 0)


# -- the real app ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with running_app(tmp_path_factory.mktemp("uploads-app")) as app:
        yield app


@pytest.fixture(scope="module")
def client(server: AppProcess) -> Any:
    return app_client(server)


def _documents(client: Any) -> list[list[Any]]:
    return client.predict(api_name="/documents")["data"]


def _upload(client: Any, *paths: Path) -> tuple[list[list[str]], list[str]]:
    from gradio_client import handle_file

    results, _, choices, _ = client.predict([handle_file(str(p)) for p in paths], api_name="/upload")
    return results["data"], [c[0] for c in choices["choices"]]


def _notes(folder: Path, texts: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in texts]


def test_the_same_files_uploaded_again_are_the_same_documents(client: Any, server: AppProcess,
                                                              tmp_path: Path) -> None:
    uploads = server.index / "uploads"
    files = _notes(tmp_path, {
        "nimbus-2026.md": "Nimbus Bio received an upfront payment of US$21 million in 2026.\n",
        "nimbus-2026.txt": "Nimbus Bio expects US$4 million in milestones in 2027.\n",
        "nimbus-2026.html": "<html><head><title>Nimbus deal</title></head><body><p>Nimbus Bio signed a deal worth "
                            "US$90 million in 2026.</p></body></html>\n"})
    files.append(write_pdf(tmp_path / "nimbus-2026.pdf", [["Nimbus Bio reported revenue of US$12 million in 2025."]]))
    names = sorted(f.name for f in files)
    first, _ = _upload(client, *files)
    assert sorted(r[:2] for r in first) == [[n, "added"] for n in names]
    for _ in range(2):
        again, _ = _upload(client, *files)
        assert sorted(again) == [[n, "unchanged", ""] for n in names]
    assert _files(uploads) == sorted(f"{_digest(f.read_bytes())[:32]}/{f.name}" for f in files)
    assert len(_documents(client)) == CORPUS_DOCS + len(files)


def test_the_same_bytes_under_another_name_are_not_added_twice(client: Any, server: AppProcess,
                                                               tmp_path: Path) -> None:
    uploads = server.index / "uploads"
    [original] = _notes(tmp_path / "a", {"orion.md": "Orion Bio received an upfront payment of US$17 million in 2026.\n"})
    assert _upload(client, original)[0] == [["orion.md", "added", ""]]
    before, count = _files(uploads), len(_documents(client))
    copy = tmp_path / "b" / "orion-copy.md"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes())
    twin = tmp_path / "b" / "orion-twin.md"
    twin.write_bytes(original.read_bytes())
    rows, _ = _upload(client, copy, twin)
    assert rows == [["orion-copy.md", "unchanged", "the same content is already in the index as orion.md; "
                                                    "not added again"],
                    ["orion-twin.md", "unchanged", "the same content is already in the index as orion.md; "
                                                    "not added again"]]
    assert (_files(uploads), len(_documents(client))) == (before, count)
    # two new files of one content in one upload: the first is added, the second is told so
    fresh = _notes(tmp_path / "c", {"pavo.md": "Pavo Bio received an upfront payment of US$15 million in 2026.\n"})[0]
    alias = fresh.with_name("pavo-alias.md")
    alias.write_bytes(fresh.read_bytes())
    rows, _ = _upload(client, fresh, alias)
    assert rows == [["pavo-alias.md", "unchanged", "the same content is in this upload as pavo.md; not added twice"],
                    ["pavo.md", "added", ""]]
    assert _files(uploads) == sorted([*before, f"{_digest(fresh.read_bytes())[:32]}/pavo.md"])
    assert len(_documents(client)) == count + 1


def test_documents_sharing_a_name_are_each_deleted_by_their_label(client: Any, server: AppProcess,
                                                                  tmp_path: Path) -> None:
    uploads = server.index / "uploads"
    before, count = _files(uploads), len(_documents(client))
    versions = []
    for i, (title, amount) in enumerate((("Quasar results, first draft", 8), ("Quasar results, final", 9))):
        [path] = _notes(tmp_path / str(i), {"annual-report.md": f"---\ntitle: {title}\n---\nQuasar Bio received an "
                                                                f"upfront payment of US${amount} million in 2026.\n"})
        rows, labels = _upload(client, path)
        assert rows[0] == ["annual-report.md", "added", ""]
        # the second says that an earlier upload of that name stays (the Replace box was not ticked)
        assert [r[1] for r in rows[1:]] == (["kept both"] if i else [])
        versions.append(path)
    shared = [label for label in labels if label.startswith("annual-report.md")]
    assert [label.rsplit(", added ", 1)[0] for label in shared] == [
        "annual-report.md — Quasar results, first draft", "annual-report.md — Quasar results, final"]
    assert len(_files(uploads)) == len(before) + 2 and len(_documents(client)) == count + 2
    msg, *_ = client.predict("annual-report.md", True, api_name="/delete")
    assert msg == "annual-report.md names 2 documents; choose one of: " + "; ".join(shared)
    assert str(server.index) not in msg
    assert len(_documents(client)) == count + 2
    for n, label in enumerate(shared):  # the second label was shown before the first delete: it still works
        msg, _, choices, confirm = client.predict(label, True, api_name="/delete")
        assert (msg, confirm) == ("Deleted annual-report.md (1 chunks).", False)
        assert len(_documents(client)) == count + 1 - n
        assert len(_files(uploads)) == len(before) + 1 - n
    assert _files(uploads) == before and not [c for c in choices["choices"] if c[0].startswith("annual-report")]
    left = client.predict("How much upfront did Quasar Bio receive in 2026?", api_name="/chat")
    # Quasar's documents are gone: nothing names it, so no figure of another company is given a tick
    assert "The corpus does not answer this" in left or left.startswith("No passage found names Quasar")
    assert "✅" not in left


def test_upload_delete_cycles_leave_no_files_behind(client: Any, server: AppProcess, tmp_path: Path) -> None:
    uploads = server.index / "uploads"
    before, folders, count = _files(uploads), _dirs(uploads), len(_documents(client))
    for i in range(6):
        [path] = _notes(tmp_path, {f"cycle-{i}.md": f"Rigel Bio received an upfront payment of US${40 + i} million "
                                                   f"in 2026 (cycle {'abcdef'[i]}).\n"})
        assert _upload(client, path)[0] == [[path.name, "added", ""]]
        assert len(_files(uploads)) == len(before) + 1
        msg, *_ = client.predict(path.name, True, api_name="/delete")
        assert msg == f"Deleted {path.name} (1 chunks)."
        assert (_files(uploads), _dirs(uploads), len(_documents(client))) == (before, folders, count)


def test_orphans_are_swept_when_the_app_starts(tmp_path: Path) -> None:
    index, log = tmp_path / "index", tmp_path / "app.log"
    app = AppProcess(index, log).start()
    try:
        from gradio_client import Client

        client = Client(app.url, verbose=False)
        notes = _notes(tmp_path / "src", {"sirius.md": "Sirius Bio received an upfront payment of US$33 million.\n",
                                          "vela.md": "Vela Bio received an upfront payment of US$34 million.\n"})
        assert sorted(r[1] for r in _upload(client, *notes)[0]) == ["added", "added"]
    finally:
        app.stop(kill=True)  # as a crash would: nothing runs on the way out
    uploads = index / "uploads"
    registered = _files(uploads)
    assert len(registered) == 2
    # what kills mid-upload and older versions leave: unregistered files, partial copies, empty folders, links
    planted = [uploads / ("f" * 32) / "half-ingested.md", uploads / registered[0].split("/")[0] / "sibling.md",
               uploads / ("e" * 32) / ".part-5f2a", uploads / "0123456789ab" / "old-uuid-layout.md"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Orphan Bio received US$1 million.\n", encoding="utf-8")
    (uploads / ("d" * 32)).mkdir()
    outside = tmp_path / "not-an-upload.md"
    outside.write_text("mine", encoding="utf-8")
    os.symlink(outside, uploads / "link.md")
    restarted = AppProcess(index, log).start()
    try:
        from gradio_client import Client

        lines = [line for line in log.read_text(encoding="utf-8").splitlines() if "orphaned upload" in line]
        assert lines == [f"INFO sectorchat.app: Swept 5 orphaned upload file(s) and 4 empty folder(s) from {uploads}"]
        assert _files(uploads) == registered and len(_dirs(uploads)) == 2
        assert outside.read_text(encoding="utf-8") == "mine"
        assert len(Client(restarted.url, verbose=False).predict(api_name="/documents")["data"]) == CORPUS_DOCS + 2
    finally:
        restarted.stop()
