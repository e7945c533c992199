"""A remote read through the Review widget against a real review server (``recist review serve``, TLS, on
127.0.0.1): the reader types the URL, user and password, sees the worklist, opens a subject (its series
downloaded over DICOMweb into the cache), measures, saves a draft, and signs with the password typed in the
prompt; a wrong signing password is refused and shown. The server then holds the signed read and
``verify`` passes."""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Iterator

import pytest
from napari.utils.notifications import notification_manager
from napari_recist._remote import cache_root
from napari_recist._session import get_session
from napari_recist._widgets._remote_review import ask_password, password_dialog
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QApplication, QInputDialog, QLineEdit
from server.conftest import PASSWORDS, Server, start_server

from recist.server.client import token_file

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A served project: two subjects, two CT timepoints each (identified series the server de-identifies)."""
    srv = start_server(tmp_path_factory.mktemp("remote"), n_subjects=2, dicom=True)
    yield srv
    srv.stop()


def _messages(since: int) -> list[str]:
    return [str(n.message) for n in notification_manager.records[since:]]


def _answer_password(qtbot, widget, password: str, *, user: str = "R1") -> None:
    """The reader types ``password`` into the widget's signing prompt and presses Enter.

    The prompt is the widget's own dialog (:func:`password_dialog`), shown without its modal loop (a short
    path for the refused signatures); the real modal prompt opened by the Sign button is answered from a
    QTimer in the download test below."""

    def prompt(parent, text: str):
        widget.ask_password = ask_password
        dialog = password_dialog(parent, text)
        dialog.show()
        field = dialog.findChild(QLineEdit)
        assert field.echoMode() == QLineEdit.EchoMode.Password and f"Password of {user}" in text
        qtbot.keyClicks(field, password)
        qtbot.keyClick(field, Qt.Key.Key_Return)
        assert dialog.result() == QInputDialog.DialogCode.Accepted and not dialog.isVisible()
        return dialog.textValue()

    widget.ask_password = prompt


def test_a_remote_reader_reads_and_signs_with_a_password_only(make_napari_viewer, qtbot, served: Server) -> None:
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("recist", "Review")
    session = get_session(viewer)

    # a wrong login password: refused, shown, nothing opened
    seen = len(notification_manager.records)
    widget.server_url.setText(served.url)
    widget.server_ca.setText(str(served.cert))
    qtbot.keyClicks(widget.server_user, "R1")
    qtbot.keyClicks(widget.server_password, "not my password")
    qtbot.mouseClick(widget.login_button, Qt.MouseButton.LeftButton)
    assert widget.remote is None and widget.subjects.count() == 0
    assert any("R1" in m or "password" in m for m in _messages(seen))

    # log in: the worklist shows the pseudonym, its status; the token is kept 0600, not the password
    qtbot.keyClicks(widget.server_password, PASSWORDS["R1"])
    qtbot.keyClick(widget.server_password, Qt.Key.Key_Return)
    assert widget.remote is not None and widget.role == "reader"
    assert widget.server_password.text() == ""
    assert widget.subjects.count() == 2
    pseudonym = widget.subjects.item(0).data(Qt.ItemDataRole.UserRole)
    assert not pseudonym.startswith("NET-") and "not started" in widget.subjects.item(0).text()
    tokens = token_file()
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert PASSWORDS["R1"] not in tokens.read_text() and json.loads(tokens.read_text())[served.url]["user"] == "R1"

    # open: the series come over DICOMweb into the cache, de-identified; a new read on the shifted dates
    item = widget.subjects.item(0)
    qtbot.mouseClick(widget.subjects.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget.subjects.visualItemRect(item).center())
    assert widget.subject == pseudonym
    qtbot.waitUntil(lambda: widget.download_worker is None, timeout=60_000)  # downloaded in a worker thread
    row = widget.worklist_rows[pseudonym]
    ctl = session.controller
    assert ctl.case.subject == pseudonym
    assert [tp.date.isoformat() for tp in ctl.case.timepoints] == [tp["date"] for tp in row["timepoints"]]
    images = [layer for layer in viewer.layers if layer.metadata.get("recist", {}).get("kind") == "image"]
    labels = [tp["label"] for tp in row["timepoints"]]
    assert len(labels) == 2 and sorted(layer.metadata["recist"]["timepoint"] for layer in images) == sorted(labels)
    cached = sorted(widget.remote.cache_dir().rglob("*.dcm"))
    assert len(cached) == 4 and widget.remote.cache_dir().is_relative_to(cache_root())
    import pydicom

    assert all(str(pydicom.dcmread(p).PatientID) == pseudonym for p in cached)

    # measure through the Measurement widget's controller path, save a draft on the server
    measure = widget.measurement
    ct = session.ct_layer(labels[0])
    start, end = ct.data_to_world((1, 4, 1)), ct.data_to_world((1, 4, 6))
    measure.select(labels[0], "T1", role="target", site="liver")
    length = measure.add_world_line(tuple(start), tuple(end))
    assert length == pytest.approx(4.0)
    measure.select(labels[1], "T1")
    measure.add_world_line(tuple(ct.data_to_world((1, 4, 1))), tuple(ct.data_to_world((1, 4, 5))))
    assert widget.dirty
    qtbot.mouseClick(widget.save_button, Qt.MouseButton.LeftButton)
    assert not widget.dirty and "draft" in widget.subjects.item(0).text()
    with served.login("R1") as http:
        (version,) = http.get(f"/api/subjects/{pseudonym}").json()["versions"]
    assert version["status"] == "draft" and version["case"] == ctl.case.to_dict()

    # sign with a wrong password: refused, shown, still a draft
    seen = len(notification_manager.records)
    _answer_password(qtbot, widget, "a wrong password")
    qtbot.mouseClick(widget.sign_button, Qt.MouseButton.LeftButton)
    assert any("refused" in m and "signature" in m for m in _messages(seen))
    assert "signed" not in widget.subjects.item(0).text()

    # sign with the password: the server holds the signed read (printed name, meaning) and verify passes
    _answer_password(qtbot, widget, PASSWORDS["R1"])
    qtbot.mouseClick(widget.sign_button, Qt.MouseButton.LeftButton)
    assert "signed" in widget.subjects.item(0).text()
    with served.login("R1") as http:
        versions = http.get(f"/api/subjects/{pseudonym}").json()["versions"]
    assert [v["status"] for v in versions] == ["signed"] and versions[-1]["case"] == ctl.case.to_dict()
    with served.login("PM1") as pm:
        assert pm.get("/api/verify").json() == {"intact": True, "problems": []}
        audit = pm.get("/api/audit", params={"since": "2000-01-01"}).json()
    assert any(r["action"] == "refused" and r["actor"] == "R1" for r in audit)
    assert PASSWORDS["R1"] not in json.dumps(audit) and PASSWORDS["R1"] not in served.log.read_text()

    # log out: the token is forgotten
    qtbot.mouseClick(widget.logout_button, Qt.MouseButton.LeftButton)
    assert widget.remote is None and json.loads(tokens.read_text())[served.url]["token"] is None
    # the next session: the signed read reopens from the server, its images from the cache (not downloaded)
    stamps = {p: p.stat().st_mtime_ns for p in cached}
    qtbot.keyClicks(widget.server_password, PASSWORDS["R1"])
    qtbot.mouseClick(widget.login_button, Qt.MouseButton.LeftButton)
    assert "signed v1" in widget.subjects.item(0).text()
    assert widget.open_subject(pseudonym) and session.controller.case.to_dict() == versions[-1]["case"]
    qtbot.waitUntil(lambda: widget.download_worker is None, timeout=60_000)
    assert len([layer for layer in viewer.layers if layer.metadata.get("recist", {}).get("kind") == "image"]) == 2
    assert {p: p.stat().st_mtime_ns for p in cached} == stamps
    qtbot.mouseClick(widget.logout_button, Qt.MouseButton.LeftButton)


def _one_target_case(pseudonym: str, timepoints: list[dict], sizes_mm) -> dict:
    """A one-target read on the worklist's timepoints (labels and shifted dates)."""
    return {"format": "recist.case/1", "subject": pseudonym,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
            "timepoints": [{"label": tp["label"], "date": tp["date"], "targets": {"T1": {"long_axis_mm": size}}}
                           for tp, size in zip(timepoints, sizes_mm)]}


def _logged_in(make_napari_viewer, qtbot, served: Server, user: str):
    """A viewer with the Review widget, ``user`` logged in by typing into it: ``(viewer, widget)``."""
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("recist", "Review")
    widget.server_url.setText(served.url)
    widget.server_ca.setText(str(served.cert))
    qtbot.keyClicks(widget.server_user, user)
    qtbot.keyClicks(widget.server_password, PASSWORDS[user])
    qtbot.mouseClick(widget.login_button, Qt.MouseButton.LeftButton)
    return viewer, widget


def _signed_read(server: Server, reader: str, pseudonym: str, timepoints: list[dict], sizes_mm) -> None:
    """``reader`` saves and signs a one-target read over HTTP (as their own client would)."""
    case = _one_target_case(pseudonym, timepoints, sizes_mm)
    with server.login(reader) as http:
        assert http.put(f"/api/subjects/{pseudonym}/read", json=case).status_code == 200
        assert http.post(f"/api/subjects/{pseudonym}/sign", json={"password": PASSWORDS[reader]}).status_code == 200


def test_a_remote_adjudicator_sees_both_reads_and_signs_the_choice(make_napari_viewer, qtbot,
                                                                    served: Server) -> None:
    with served.login("R1") as http:
        row = http.get("/api/worklist").json()[-1]
    pseudonym = row["subject"]
    _signed_read(served, "R1", pseudonym, row["timepoints"], [30.0, 40.0])  # +33 %: PD
    _signed_read(served, "R2", pseudonym, row["timepoints"], [30.0, 31.0])  # SD
    viewer, widget = _logged_in(make_napari_viewer, qtbot, served, "ADJ1")
    assert widget.role == "adjudicator" and widget.adjudication_box.isVisibleTo(widget)
    assert widget.subjects.count() == 1 and "progression" in widget.subjects.item(0).text()
    item = widget.subjects.item(0)
    qtbot.mouseClick(widget.subjects.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget.subjects.visualItemRect(item).center())
    assert widget.subject == pseudonym
    qtbot.waitUntil(lambda: widget.download_worker is None, timeout=60_000)
    assert {widget.read_tables[ab].cell_text("Sum (mm)", row["timepoints"][1]["label"]) for ab in "AB"} == \
        {"40.0", "31.0"}
    images = [layer for layer in viewer.layers if layer.metadata.get("recist", {}).get("kind") == "image"]
    assert len(images) == 2 and len(list(widget.remote.cache_dir().rglob("*.dcm"))) == 4
    pd_read = next(ab for ab in "AB" if widget.read_tables[ab].cell_text(
        "Sum (mm)", row["timepoints"][1]["label"]) == "40.0")

    # a wrong password: refused and shown, nothing recorded
    seen = len(notification_manager.records)
    widget.choice.setCurrentText(pd_read)
    qtbot.keyClicks(widget.adjudication_reason, "T1 growth at week 8 is real on the images")
    _answer_password(qtbot, widget, "not the adjudicator's password", user="ADJ1")
    qtbot.mouseClick(widget.adjudicate_button, Qt.MouseButton.LeftButton)
    assert any("refused" in m and "signature" in m for m in _messages(seen))
    assert "adjudicated" not in widget.subjects.item(0).text()

    _answer_password(qtbot, widget, PASSWORDS["ADJ1"], user="ADJ1")
    qtbot.mouseClick(widget.adjudicate_button, Qt.MouseButton.LeftButton)
    assert "adjudicated" in widget.subjects.item(0).text()
    with served.login("PM1") as pm:
        (result,) = [r for r in pm.get("/api/results").json() if r["pseudonym"] == pseudonym]
        assert pm.get("/api/verify").json() == {"intact": True, "problems": []}
    assert result["status"] == "final" and result["source"] == "adjudication" and result["read"] == pd_read
    assert result["best_overall_response"] == "PD"
    qtbot.mouseClick(widget.logout_button, Qt.MouseButton.LeftButton)
    assert widget.remote is None and widget.subjects.count() == 0


def test_images_download_in_a_worker_with_progress_and_cancel_and_sign_answers_the_modal_prompt(
        make_napari_viewer, qtbot, served: Server, monkeypatch) -> None:
    """The series download runs off the UI thread: the widget keeps processing events, the progress bar
    counts the instances to 100 %, *Cancel* stops it (no images added) and *Download* fetches the rest into
    the cache. Then *Sign* is clicked and its real modal password prompt is answered from a QTimer."""
    with served.login("R2") as http:
        row = http.get("/api/worklist").json()[0]
    pseudonym = row["subject"]
    case = _one_target_case(pseudonym, row["timepoints"], [30.0, 31.0])
    with served.login("R2") as http:  # R2's draft, saved earlier from another machine
        assert http.put(f"/api/subjects/{pseudonym}/read", json=case).status_code == 200

    # a slow network: each instance takes 0.25 s to arrive (in the worker thread), and the first download
    # stalls after two instances until the reader has pressed Cancel
    from napari_recist._remote import RemoteReview

    retrieve = RemoteReview._retrieve
    stalled = threading.Event()
    arrived = []

    def slow(self, *args, **kwargs):
        for path in retrieve(self, *args, **kwargs):
            arrived.append(path)
            if len(arrived) == 2:
                assert stalled.wait(30)
            time.sleep(0.25)
            yield path

    monkeypatch.setattr(RemoteReview, "_retrieve", slow)
    viewer, widget = _logged_in(make_napari_viewer, qtbot, served, "R2")
    assert widget.remote is not None and not widget.download_progress.isVisibleTo(widget)

    def images() -> list:
        return [layer for layer in viewer.layers if layer.metadata.get("recist", {}).get("kind") == "image"]

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    values: list[tuple[int, int]] = []
    widget.download_progress.valueChanged.connect(
        lambda v: values.append((v, widget.download_progress.maximum())))

    # open: the read is there at once, the images come in the background; cancel after the first instance
    assert widget.open_subject(pseudonym)
    assert widget.download_worker is not None  # open_subject returned while the download goes on
    assert widget.download_progress.isVisibleTo(widget) and widget.subject == pseudonym
    qtbot.waitUntil(lambda: widget.download_progress.value() >= 1, timeout=30_000)
    qtbot.mouseClick(widget.download_cancel, Qt.MouseButton.LeftButton)
    stalled.set()
    qtbot.waitUntil(lambda: widget.download_worker is None, timeout=30_000)
    cached = list(widget.remote.cache_dir().rglob("*.dcm"))
    assert images() == [] and 1 <= len(cached) < 4
    assert widget.download_progress.isVisibleTo(widget) and widget.download_cancel.text() == "Download"

    # download the rest: the UI thread keeps running (timer ticks all along) and the bar reaches 100 %
    values.clear()
    begin = len(ticks)
    first = time.monotonic()
    qtbot.mouseClick(widget.download_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: widget.download_worker is None, timeout=30_000)
    took = time.monotonic() - first
    timer.stop()
    during = [t for t in ticks[begin:] if t <= first + took]
    assert took > 0.4 and len(during) >= took / 0.2  # at least one tick per 200 ms of download
    assert values[-1] == (4, 4) and [v for v, _ in values] == sorted(v for v, _ in values)
    assert not widget.download_progress.isVisibleTo(widget)
    cached = sorted(widget.remote.cache_dir().rglob("*.dcm"))
    assert len(cached) == 4 and widget.remote.cache_dir().is_relative_to(cache_root())
    assert len(images()) == 2 and viewer.layers.index(images()[0]) == 0  # under the read's layers

    # Sign: the real button opens the real modal prompt; a timer types the password into it
    answered = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(50, answer)
            return
        field = dialog.findChild(QLineEdit)
        answered.append((dialog.windowTitle(), dialog.labelText(), field.echoMode()))
        qtbot.keyClicks(field, PASSWORDS["R2"])
        qtbot.keyClick(field, Qt.Key.Key_Return)

    QTimer.singleShot(50, answer)
    qtbot.mouseClick(widget.sign_button, Qt.MouseButton.LeftButton)
    assert answered == [("recist review: electronic signature", f"Password of R2 to sign the read of {pseudonym}:",
                         QLineEdit.EchoMode.Password)]
    assert QApplication.activeModalWidget() is None
    with served.login("R2") as http:
        versions = http.get(f"/api/subjects/{pseudonym}").json()["versions"]
    assert versions[-1]["status"] == "signed" and versions[-1]["signature"]["name"] == "Dr Bo Reader"
    assert [tp["targets"]["T1"]["long_axis_mm"] for tp in versions[-1]["case"]["timepoints"]] == [30.0, 31.0]
    qtbot.mouseClick(widget.logout_button, Qt.MouseButton.LeftButton)
