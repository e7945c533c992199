"""The Review widget's remote half: log in to a review server and read from its worklist and DICOMweb.

A reader on another machine needs the server's URL, their user name and password (and, for a server
with a self-signed certificate, the CA certificate file the core lab sent). Logging in keeps the session
token in the client's token store (mode 0600), never the password; the worklist lists the reader's
pseudonyms with their status and timepoints; opening a subject opens the reader's latest version from
the server, or a new read on the worklist's labels and shifted dates, and downloads its series into the
user's cache (:mod:`napari_recist._remote`) in a worker thread (napari's ``create_worker``): the viewer
stays usable, a progress bar counts the instances and *Cancel* stops the download; the images appear
when it is done (at once for a subject already in the cache). *Sign*, *Amend* and *Adjudicate* ask for the password
again (an electronic signature, 21 CFR 11.200(a)(1)); it is sent in that request and forgotten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from napari.layers import Layer
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QProgressBar,
    QPushButton,
)

from napari_recist._layers import series_layers
from napari_recist._remote import RemoteReview

__all__ = ["RemoteReading", "ask_password", "password_dialog"]


def password_dialog(parent, text: str) -> QInputDialog:
    """The signing password prompt (echo hidden), not yet shown."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("recist review: electronic signature")
    dialog.setLabelText(text)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    return dialog


def ask_password(parent, text: str) -> str | None:
    """Ask for the password in a modal :func:`password_dialog`; None when cancelled."""
    dialog = password_dialog(parent, text)
    try:
        return dialog.textValue() if dialog.exec() == QInputDialog.DialogCode.Accepted else None
    finally:
        dialog.setTextValue("")
        dialog.deleteLater()


class RemoteReading:
    """Mixed into :class:`napari_recist._widgets.review.ReviewWidget` (which provides ``_call``,
    ``_leave_subject``, ``subjects``, ``state`` and the read/adjudication boxes)."""

    remote: RemoteReview | None = None
    worklist_rows: dict[str, dict[str, Any]]
    #: the running image download (a napari GeneratorWorker) and its subject, None when idle
    download_worker: Any = None
    download_subject: str | None = None
    _download_aborted = False

    def _server_box(self) -> QGroupBox:
        self.worklist_rows = {}
        #: ``ask_password(parent, text) -> str | None``; replaceable by scripts, never stores the password
        self.ask_password = ask_password
        box = QGroupBox("Review server")
        form = QFormLayout(box)
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("https://review.example.org:8443")
        self.server_ca = QLineEdit()
        self.server_ca.setPlaceholderText("CA certificate file (a self-signed server only)")
        self.server_user = QLineEdit()
        self.server_password = QLineEdit()
        self.server_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.login_button, self.logout_button = QPushButton("Log in"), QPushButton("Log out")
        self.login_button.clicked.connect(self._on_login)
        self.server_password.returnPressed.connect(self._on_login)
        self.logout_button.clicked.connect(self.log_out)
        self.logout_button.setEnabled(False)
        form.addRow("URL", self.server_url)
        form.addRow("CA cert", self.server_ca)
        form.addRow("User", self.server_user)
        form.addRow("Password", self.server_password)
        row = QHBoxLayout()
        row.addWidget(self.login_button)
        row.addWidget(self.logout_button)
        form.addRow("", row)
        self.download_progress = QProgressBar()
        self.download_progress.setFormat("images: %v of %m instances")
        self.download_cancel = QPushButton("Cancel")
        self.download_cancel.setToolTip("stop downloading the images (what is downloaded stays in the cache); "
                                        "after a cancel: download them again")
        self.download_cancel.clicked.connect(self._on_download_button)
        row = QHBoxLayout()
        row.addWidget(self.download_progress)
        row.addWidget(self.download_cancel)
        form.addRow("Images", row)
        self._show_download(False)
        return box

    def _show_download(self, visible: bool) -> None:
        self.download_progress.setVisible(visible)
        self.download_cancel.setVisible(visible)

    def _on_login(self) -> None:
        self.log_in(self.server_url.text(), self.server_user.text(), self.server_password.text(),
                    ca_cert=self.server_ca.text().strip() or None)

    def log_in(self, url: str, user: str, password: str, *, ca_cert: str | None = None) -> bool:
        """Log in to a review server and show the worklist (the password field is cleared either way)."""
        self.server_password.clear()
        if not self._leave_subject():
            return False
        remote = self._call(RemoteReview.login, url, user, password, ca_cert=ca_cert)
        if remote is None:
            self.state.setText(f"not logged in to {url.strip()}")
            return False
        if remote.role not in ("reader", "adjudicator"):
            remote.logout()
            show_error(f"recist review: {remote.user} is an administrator: use the server's status page")
            return False
        if self.remote is not None:
            self.remote.close()
        self.remote, self.project = remote, None
        self.identity, self.role, self.subject = remote.user, remote.role, None
        self.logout_button.setEnabled(True)
        self.read_box.setVisible(self.role == "reader")
        self.adjudication_box.setVisible(self.role == "adjudicator")
        self.refresh_subjects()
        return True

    def log_out(self) -> None:
        """Save unsaved changes as a draft, end the session and forget the token."""
        if self.remote is None or not self._leave_subject():
            return
        self._drop_download()
        self._call(self.remote.logout)
        self.remote, self.identity, self.role, self.subject = None, None, None, None
        self.worklist_rows = {}
        self.subjects.clear()
        self.session.clear()
        self.logout_button.setEnabled(False)
        self.read_box.setVisible(False)
        self.adjudication_box.setVisible(False)
        self.state.setText("logged out")

    def _remote_rows(self) -> list[dict[str, Any]]:
        rows = self._call(self.remote.worklist) or []
        self.worklist_rows = {row["subject"]: row for row in rows}
        return rows

    def _remote_images(self, subject: str) -> None:
        """Download the subject's series in a worker thread; their layers are added when it is done."""
        from napari.qt.threading import create_worker

        row = self.worklist_rows.get(subject)
        if row is None:
            return
        self._drop_download()
        steps = self.remote.download_steps(row)

        def download() -> Any:
            return (yield from steps)

        worker = create_worker(download, _start_thread=False)
        worker.finished.connect(steps.close)  # a cancelled download closes its connection once the thread is out
        self.download_worker, self.download_subject = worker, subject
        for signal, slot in self._download_slots(worker):
            signal.connect(slot)
        self.download_progress.setRange(0, 0)  # busy until the first count arrives
        self.download_cancel.setText("Cancel")
        self._show_download(True)
        worker.start()

    def _download_slots(self, worker: Any) -> list[tuple[Any, Any]]:
        """The worker's signals and this widget's slots (bound methods: nothing else holds the widget)."""
        return [(worker.yielded, self._on_download_progress), (worker.returned, self._on_downloaded),
                (worker.errored, self._on_download_error), (worker.aborted, self._on_download_aborted),
                (worker.finished, self._on_download_finished)]

    def _on_download_button(self) -> None:
        """*Cancel* while downloading; *Download* after a cancel (the open subject's images again)."""
        if self.download_worker is not None:
            self.cancel_download()
        elif self.remote is not None and self.subject is not None:
            self._remote_images(self.subject)

    def cancel_download(self) -> None:
        """Stop the running download (its layers are not added; the instances stored stay cached)."""
        if self.download_worker is not None:
            self.download_worker.quit()

    def _drop_download(self) -> None:
        """Stop the running download without a word (another subject is opened, or the reader logs out)."""
        worker = self.download_worker
        if worker is None:
            return
        for signal, slot in self._download_slots(worker):
            signal.disconnect(slot)
        worker.quit()
        self.download_worker = self.download_subject = None
        self._download_aborted = False
        self._show_download(False)

    def _on_download_progress(self, step: tuple[int, int]) -> None:
        done, total = step
        self.download_progress.setRange(0, max(total, 1))
        self.download_progress.setValue(min(done, max(total, 1)) if total else 1)

    def _on_downloaded(self, folders: list[tuple[str, Path]]) -> None:
        subject = self.download_subject
        if self.remote is None or self.subject != subject:  # the reader moved on meanwhile
            return
        position = 0  # below the read's lines, which are already shown
        for label, folder in folders:
            where = f"the server's images of {subject} ({label}, cached in {Path(folder)})"
            for data, kwargs, kind in series_layers(folder, timepoint_of=lambda _info, label=label: label,
                                                    package=where):
                self.viewer.layers.insert(position, Layer.create(data, kwargs, kind))
                position += 1

    def _on_download_error(self, exc: BaseException) -> None:
        show_error(f"recist review: the images of {self.download_subject} were not downloaded: {exc}")

    def _on_download_aborted(self) -> None:
        show_info(f"recist review: download of the images of {self.download_subject} cancelled (what arrived "
                  "stays in the cache; *Download* fetches the rest)")
        self._download_aborted = True

    def _on_download_finished(self) -> None:
        worker = self.download_worker
        if worker is not None:
            for signal, slot in self._download_slots(worker):
                signal.disconnect(slot)
        self.download_worker = self.download_subject = None
        aborted, self._download_aborted = self._download_aborted, False
        self.download_cancel.setText("Download")
        self._show_download(aborted)  # after a cancel the row stays, to download the images again

    def _signing_password(self, what: str) -> str | None:
        password = self.ask_password(self, f"Password of {self.identity} to {what}:")
        if not password:
            show_info("recist review: not signed (no password given)")
            return None
        return password
