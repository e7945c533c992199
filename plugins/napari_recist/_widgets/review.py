"""Review widget: central-review reading and adjudication through :class:`recist.review.workflow.ReviewProject`.

The widget is a thin front end to the same API the ``recist review`` CLI calls; it holds no review logic.
The user chooses the project folder, the identity to act as (``--as`` of the CLI, one of the people the
charter names) and, for images, a reader package (``recist review package``: de-identified series and
``manifest.json``). Then, by role:

- **reader**: subjects by pseudonym with their read status (``status``); opening one loads the reader's
  latest version (``show``) or, for a subject not started, a new case on the package's pseudonym and
  shifted dates, shows the package's series of every timepoint, and reads it with the Measurement and
  Case table widgets (docked beside). *Save draft* calls ``save_read``, *Sign* saves unsaved changes then
  calls ``sign``, *Amend* calls ``amend`` with the reason typed. Unsaved changes are saved as a draft when
  the reader opens another subject (a draft is not a signature; the API refuses it over a signed read).
- **adjudicator**: the subjects that need adjudication (``status``); opening one shows Read A and Read B
  (``show``) side by side as case tables, and their lines on the images as two Shapes layers per
  timepoint in two colours; *Adjudicate* records the choice and the written reason (``adjudicate``).
- **administrator**: the status of every subject (``status``).

A reader or adjudicator on another machine logs in to a review server instead (*Review server*: URL,
user, password; :mod:`napari_recist._widgets._remote_review`): the same views, with the worklist, the
reads and the images coming from the server, and *Sign*, *Amend* and *Adjudicate* asking for the password.

Every refusal of the API (:class:`recist.errors.BlindingError`, e.g. acting outside one's role) and every
other :class:`recist.errors.RecistError` is shown as a napari notification; nothing is changed then.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from napari.layers import Layer
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent, Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from napari_recist._controller import CaseController
from napari_recist._layers import lines_layer_kwargs, series_layers
from napari_recist._session import get_session
from napari_recist._widgets._remote_review import RemoteReading
from napari_recist._widgets.measurement import MeasurementWidget
from napari_recist._widgets.table import CaseTableWidget
from recist.errors import BlindingError, RecistError
from recist.model.case import CASE_FORMAT
from recist.model.validate import parse_case

__all__ = ["ReviewWidget", "READ_COLOURS"]

logger = logging.getLogger(__name__)

_KEY = Qt.ItemDataRole.UserRole

#: Line colours of Read A and Read B in the adjudicator's view (blue / orange: told apart also by
#: readers with red-green colour-vision deficiency).
READ_COLOURS = {"A": "#4fc3f7", "B": "#ffa726"}


def _case(data: dict, source: str):
    """A case dict of the API as a Case (object-level checks only: a draft may be incomplete)."""
    return parse_case(data, source, whole_case=False)


class ReviewWidget(RemoteReading, QWidget):
    """Read or adjudicate the subjects of a central-review project as one of its people."""

    def __init__(self, napari_viewer, parent=None) -> None:
        super().__init__(parent)
        viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)  # napari passes a PublicOnlyProxy
        self.viewer = viewer
        self.session = get_session(viewer)
        self.project = None
        self.identity: str | None = None
        self.role: str | None = None
        self.package_dir: Path | None = None
        self.package: dict[str, Any] | None = None
        self.subject: str | None = None
        self.dirty = False
        self.reads: dict[str, CaseController] = {}
        self.view: dict[str, Any] | None = None
        self.measurement: MeasurementWidget | None = None
        self.table: CaseTableWidget | None = None
        self._build()
        # closing napari never loses the reader's unsaved edits: they are saved as a draft, or the reader is
        # asked (the draft cannot be saved, e.g. over a signed read)
        self._main_window = getattr(getattr(viewer, "window", None), "_qt_window", None)
        if self._main_window is not None:
            self._main_window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is getattr(self, "_main_window", None) and event.type() == QEvent.Type.Close and not self.close_read():
            event.ignore()
            return True
        return False

    def close_read(self) -> bool:
        """Before napari closes: save the reader's unsaved edits as a draft; when that fails, ask whether to
        close anyway (losing them). False: do not close."""
        if self.role != "reader" or not self.subject or not self.dirty:
            return True
        if self.save_draft():
            return True
        return self.ask(f"Your changes to {self.subject} could not be saved as a draft (see the message). "
                        "Close napari and lose them?")

    def ask(self, question: str) -> bool:
        """Ask the reader a yes/no question in a modal dialog (default: No); tests may replace it."""
        box = QMessageBox(QMessageBox.Icon.Warning, "recist review", question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.project_path = QLineEdit()
        self.project_path.setPlaceholderText("review project folder")
        self.package_path = QLineEdit()
        self.package_path.setPlaceholderText("reader package folder (images; optional)")
        self.identity_box = QComboBox()
        self.identity_box.setEditable(True)
        self.identity_box.setToolTip("who you act as (the --as of `recist review`): a reader, an adjudicator "
                                     "or an administrator named in the charter")
        browse_project, browse_package = QPushButton("..."), QPushButton("...")
        browse_project.clicked.connect(lambda: self._browse(self.project_path))
        browse_package.clicked.connect(lambda: self._browse(self.package_path))
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self._on_open)
        form = QFormLayout()
        for label, field, button in (("Project", self.project_path, browse_project),
                                     ("Images", self.package_path, browse_package)):
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(button)
            form.addRow(label, row)
        form.addRow("Act as", self.identity_box)
        form.addRow("", self.open_button)

        self.subjects = QListWidget()
        self.subjects.itemActivated.connect(lambda item: self.open_subject(item.data(_KEY)))
        self.subjects.itemClicked.connect(lambda item: self.open_subject(item.data(_KEY)))
        self.state = QLabel("")
        self.state.setWordWrap(True)

        self.read_box = QGroupBox("Read")
        read_layout = QVBoxLayout(self.read_box)
        buttons = QHBoxLayout()
        self.save_button, self.sign_button = QPushButton("Save draft"), QPushButton("Sign")
        self.sign_button.setToolTip("sign as the author of this read (a signed read can only be amended)")
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.sign_button)
        read_layout.addLayout(buttons)
        amend = QHBoxLayout()
        self.amend_reason = QLineEdit()
        self.amend_reason.setPlaceholderText("reason for the amendment")
        self.amend_button = QPushButton("Amend")
        amend.addWidget(self.amend_reason, 1)
        amend.addWidget(self.amend_button)
        read_layout.addLayout(amend)
        self.save_button.clicked.connect(self.save_draft)
        self.sign_button.clicked.connect(self.sign)
        self.amend_button.clicked.connect(lambda: self.amend(self.amend_reason.text()))

        self.adjudication_box = QGroupBox("Adjudication")
        adj = QVBoxLayout(self.adjudication_box)
        self.triggers = QLabel("")
        self.triggers.setWordWrap(True)
        self.timepoint = QComboBox()
        self.timepoint.currentTextChanged.connect(self._on_timepoint)
        tp_row = QFormLayout()
        tp_row.addRow("Timepoint", self.timepoint)
        # Read A and Read B side by side in their own dock below the canvas (the full window width: every
        # value column visible), docked when the adjudicator opens a subject
        self.reads_panel = QWidget()
        self._reads_dock = None
        self.tables_row = QHBoxLayout(self.reads_panel)
        self.tables_row.setContentsMargins(0, 0, 0, 0)
        self.read_tables: dict[str, CaseTableWidget] = {}
        self.choice = QComboBox()
        self.choice.addItems(["A", "B"])
        self.adjudication_reason = QLineEdit()
        self.adjudication_reason.setPlaceholderText("reason for the choice (required)")
        self.adjudicate_button = QPushButton("Adjudicate")
        self.adjudicate_button.clicked.connect(
            lambda: self.adjudicate(self.choice.currentText(), self.adjudication_reason.text()))
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Select read"))
        choose.addWidget(self.choice)
        choose.addWidget(self.adjudication_reason, 1)
        choose.addWidget(self.adjudicate_button)
        adj.addWidget(self.triggers)
        adj.addLayout(tp_row)
        adj.addLayout(choose)

        layout = QVBoxLayout(self)
        layout.addWidget(self._server_box())
        layout.addLayout(form)
        layout.addWidget(QLabel("Subjects"))
        layout.addWidget(self.subjects, 1)
        layout.addWidget(self.state)
        layout.addWidget(self.read_box)
        layout.addWidget(self.adjudication_box)
        self.read_box.setVisible(False)
        self.adjudication_box.setVisible(False)

    def _browse(self, field: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", field.text())
        if folder:
            field.setText(folder)

    def _on_open(self) -> None:
        self.open_project(self.project_path.text(), self.identity_box.currentText() or None,
                          package=self.package_path.text() or None)

    # ------------------------------------------------------------------ calling the API
    def _call(self, func, *args, **kwargs):
        """Call the review API; a refusal or any RecistError becomes a notification (returns None)."""
        try:
            return func(*args, **kwargs)
        except BlindingError as exc:
            show_error(f"recist review: refused: {exc}")
        except RecistError as exc:
            show_error(f"recist review: {exc}")
        return None

    # ------------------------------------------------------------------ project and identity
    def open_project(self, folder, identity: str | None, *, package=None) -> bool:
        """Open a review project as ``identity`` (and a reader package for the images); list the subjects."""
        from recist.review.workflow import ReviewProject

        if not self._leave_subject():
            return False
        project = self._call(ReviewProject.open, Path(folder)) if folder else None
        if project is None:
            if not folder:
                show_error("recist review: choose the review project folder")
            return False
        if self.remote is not None:  # a local project replaces the server's view (the token is kept)
            self.remote.close()
        self.project, self.remote = project, None
        self.logout_button.setEnabled(False)
        self.project_path.setText(str(folder))
        names = [*project.charter.readers, *project.charter.adjudicators, *project.charter.administrators]
        self.identity_box.blockSignals(True)
        self.identity_box.clear()
        self.identity_box.addItems(names)
        self.identity_box.setCurrentText(identity or "")
        self.identity_box.blockSignals(False)
        self.package_dir, self.package = None, None
        if package:
            self._open_package(Path(package))
        self.identity = identity
        self.role = project.charter.role_of(identity) if identity else None
        self.subject = None
        self.read_box.setVisible(self.role == "reader")
        self.adjudication_box.setVisible(self.role == "adjudicator")
        self.refresh_subjects()
        return self.role is not None

    def _open_package(self, folder: Path) -> None:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            show_error(f"recist review: {folder} is not a reader package (manifest.json: {exc})")
            return
        if not str(manifest.get("format", "")).startswith("recist.review.package/"):
            show_error(f"recist review: {folder / 'manifest.json'} is not a reader package manifest "
                       f"(format {manifest.get('format')!r})")
            return
        self.package_dir, self.package = folder, manifest
        self.package_path.setText(str(folder))

    def refresh_subjects(self) -> list[dict[str, Any]]:
        """List the subjects ``status`` gives this identity (refused identities: a notification)."""
        self.subjects.clear()
        if self.project is None and self.remote is None:
            return []
        rows = self._remote_rows() if self.remote is not None else (
            self._call(self.project.status, as_=self.identity or "") or [])
        for row in rows:
            key = row.get("pseudonym") or row["subject"]
            if self.role == "reader":
                text = f"{row['subject']}  {row['status']}" + (f" v{row['version']}" if row.get("version") else "")
            elif self.role == "adjudicator":
                text = f"{row['subject']}  {', '.join(row['triggers'])}" + ("  (adjudicated)" if row["adjudicated"]
                                                                            else "")
            else:
                reads = ", ".join(f"{r}: {s}" for r, s in row["reads"].items())
                text = f"{row['subject']} ({row['pseudonym']})  {reads}" + (
                    f"  adjudication: {', '.join(row['triggers'])}" if row["needs_adjudication"] else "")
            self.subjects.addItem(text)
            self.subjects.item(self.subjects.count() - 1).setData(_KEY, key)
        self.state.setText(f"{self.identity} ({self.role}): {len(rows)} subject(s)" if self.role else "")
        return rows

    # ------------------------------------------------------------------ subjects
    def _package_subject(self, pseudonym: str) -> dict[str, Any] | None:
        if self.remote is not None:
            return self.worklist_rows.get(pseudonym)
        if self.package is None:
            return None
        return next((s for s in self.package.get("subjects", []) if s.get("subject") == pseudonym), None)

    def _leave_subject(self) -> bool:
        """Save the reader's unsaved changes as a draft before leaving a subject (False: not saved)."""
        if self.role == "reader" and self.subject and self.dirty:
            return self.save_draft()
        return True

    def open_subject(self, subject: str) -> bool:
        """Open a subject (its pseudonym) for reading or adjudication, by role."""
        if (self.project is None and self.remote is None) or self.role not in ("reader", "adjudicator") \
                or not subject:
            return False
        if subject == self.subject:
            return True
        if not self._leave_subject():
            return False
        opener = self._open_read if self.role == "reader" else self._open_adjudication
        return bool(self._call(opener, subject))

    def _show(self, subject: str) -> dict[str, Any] | None:
        if self.remote is not None:
            return self._call(self.remote.show, subject)
        return self._call(self.project.show, subject, as_=self.identity)

    def _add_images(self, subject: str) -> None:
        if self.remote is not None:
            self._remote_images(subject)
            return
        entry = self._package_subject(subject)
        if entry is None:
            if self.package is not None:
                show_warning(f"recist review: the package {self.package_dir} has no images of {subject}")
            return
        for tp in entry.get("timepoints", []):
            folder = self.package_dir / tp["folder"]
            if not folder.is_dir():
                show_warning(f"recist review: {folder} (timepoint {tp['label']} of {subject}) is missing")
                continue
            where = f"the reader package {self.package_dir} ({subject}, {tp['label']})"
            for data, kwargs, kind in series_layers(folder, timepoint_of=lambda _info, label=tp["label"]: label,
                                                    package=where):
                self.viewer.add_layer(Layer.create(data, kwargs, kind))

    def _open_read(self, subject: str) -> bool:
        shown = self._show(subject)
        if shown is None:
            return False
        versions = shown.get("versions") or []
        if versions:
            case = _case(versions[-1]["case"], f"{self.identity}'s read of {subject}")
            what = f"version {versions[-1]['version']} ({versions[-1]['status']})"
        else:
            entry = self._package_subject(subject)
            if entry is None:
                show_error(f"recist review: open your reader package (Images) to start reading {subject}: it "
                           "holds the subject's timepoints and images")
                return False
            case = _case({"format": CASE_FORMAT, "subject": subject, "lesions": [], "timepoints": [
                {"label": tp["label"], "date": tp["date"]} for tp in entry["timepoints"]]}, subject)
            what = "new read"
        self.session.clear()
        self._add_images(subject)
        controller = CaseController(case, None, autosave=False)
        controller.subscribe(self._on_edit)
        self.session.set_controller(controller)
        self._ensure_reading_widgets()
        self.subject, self.dirty = subject, False
        self.state.setText(f"{self.identity} reading {subject}: {what}")
        return True

    def _ensure_reading_widgets(self) -> None:
        """Dock the Measurement and Case table widgets beside the review widget (once)."""
        if self.measurement is not None:
            return
        self.measurement = MeasurementWidget(self.viewer)
        self.table = CaseTableWidget(self.viewer)
        window = getattr(self.viewer, "window", None)
        if window is not None and hasattr(window, "add_dock_widget"):
            window.add_dock_widget(self.measurement, name="Measurement (review)", area="right")
            window.add_dock_widget(self.table, name="Case table (review)", area="bottom")

    def _on_edit(self) -> None:
        self.dirty = True

    # ------------------------------------------------------------------ reader actions
    def save_draft(self) -> bool:
        """Save the case being read as the reader's draft (``save_read``)."""
        ctl = self.session.controller
        if self.role != "reader" or self.subject is None or ctl is None:
            show_error("recist review: open a subject as a reader first")
            return False
        if self.remote is not None:
            version = self._call(self.remote.save_read, self.subject, ctl.case.to_dict())
        else:
            version = self._call(self.project.save_read, self.subject, ctl.case, as_=self.identity)
        if version is None:
            return False
        self.dirty = False
        self.state.setText(f"{self.identity}: draft of {self.subject} saved (version {version})")
        self.refresh_subjects()
        return True

    def sign(self) -> bool:
        """Save unsaved changes, then sign the draft as its author (``sign``)."""
        if self.dirty and not self.save_draft():
            return False
        if self.subject is None:
            show_error("recist review: open a subject as a reader first")
            return False
        if self.remote is not None:
            password = self._signing_password(f"sign the read of {self.subject}")
            version = self._call(self.remote.sign, self.subject, password=password) if password else None
        else:
            version = self._call(self.project.sign, self.subject, as_=self.identity)
        if version is None:
            return False
        self.state.setText(f"{self.identity}: read of {self.subject} signed (version {version})")
        show_info(f"recist review: {self.subject} signed by {self.identity}")
        self.refresh_subjects()
        return True

    def amend(self, reason: str) -> bool:
        """Replace the signed read by the case being read, with a reason (``amend``)."""
        ctl = self.session.controller
        if self.subject is None or ctl is None:
            show_error("recist review: open a subject as a reader first")
            return False
        if self.remote is not None:
            password = self._signing_password(f"sign the amendment of {self.subject}")
            version = self._call(self.remote.amend, self.subject, ctl.case.to_dict(), reason=reason,
                                 password=password) if password else None
        else:
            version = self._call(self.project.amend, self.subject, ctl.case, as_=self.identity, reason=reason)
        if version is None:
            return False
        self.dirty = False
        self.amend_reason.clear()
        self.state.setText(f"{self.identity}: read of {self.subject} amended (version {version})")
        self.refresh_subjects()
        return True

    # ------------------------------------------------------------------ adjudicator
    def _open_adjudication(self, subject: str) -> bool:
        view = self._show(subject)
        if view is None:
            return False
        self.session.clear()
        self._add_images(subject)
        self.reads = {ab: CaseController(_case(read["case"], f"Read {ab} of {subject}"), None, autosave=False)
                      for ab, read in sorted(view["reads"].items())}
        labels: list[str] = []
        for controller in self.reads.values():
            labels += [label for label in controller.timepoint_labels if label not in labels]
        for ab, controller in self.reads.items():
            for label in controller.timepoint_labels:
                self._add_read_lines(ab, controller, label)
        while self.tables_row.count():
            old = self.tables_row.takeAt(0).widget()
            if old is not None:
                old.setParent(None)
                old.deleteLater()
        self.read_tables = {}
        for ab, controller in self.reads.items():
            box = QWidget()
            column = QVBoxLayout(box)
            column.addWidget(QLabel(f"<b style='color:{READ_COLOURS[ab]}'>Read {ab}</b>"))
            self.read_tables[ab] = CaseTableWidget(self.viewer, controller, bind_session=False)
            column.addWidget(self.read_tables[ab])
            self.tables_row.addWidget(box, 1)
        self._dock_reads_panel()
        self.view, self.subject = view, subject
        self.timepoint.blockSignals(True)
        self.timepoint.clear()
        self.timepoint.addItems(labels)
        self.timepoint.blockSignals(False)
        if labels:
            self._on_timepoint(labels[0])
        done = view.get("adjudication")
        self.triggers.setText(f"{subject}: the reads disagree on {', '.join(view['triggers'])}."
                              + (f" Adjudicated: Read {done['choice']} ({done['reason']})." if done else ""))
        return True

    def _dock_reads_panel(self) -> None:
        """Show the Read A / Read B tables in a dock below the canvas, as tall as their rows."""
        window = getattr(self.viewer, "window", None)
        if window is None or not hasattr(window, "add_dock_widget"):
            return
        if self._reads_dock is None:
            from napari_recist._layout import make_room

            if hasattr(window, "_qt_viewer"):
                make_room(self.viewer)
            self._reads_dock = window.add_dock_widget(self.reads_panel, name="Read A / Read B", area="bottom",
                                                      add_vertical_stretch=False)
        self._reads_dock.setVisible(True)
        self._size_reads()
        QTimer.singleShot(0, self._size_reads)  # again once Qt has laid the tables out

    def _size_reads(self) -> None:
        tables = list(self.read_tables.values())
        window = getattr(self.viewer, "window", None)
        if not tables or self._reads_dock is None or window is None:
            return
        qt_window = window._qt_window
        wanted = max(table.wanted_height() for table in tables) + 24  # + the "Read A" title
        qt_window.resizeDocks([self._reads_dock], [min(wanted, int(0.45 * qt_window.height()))],
                              Qt.Orientation.Vertical)

    def _add_read_lines(self, ab: str, controller: CaseController, label: str) -> None:
        kwargs = lines_layer_kwargs(controller, label)
        data = kwargs.pop("_data")
        kwargs.update(name=f"{label} Read {ab} lines", edge_color=READ_COLOURS[ab],
                      metadata={"recist": {"kind": "review_lines", "timepoint": label, "read": ab}})
        layer = self.viewer.add_shapes(data, **kwargs)
        layer.editable = False

    def _on_timepoint(self, label: str) -> None:
        if label:
            self.session.show_timepoint_layers(label)

    def read_layers(self, ab: str) -> list:
        """The Shapes layers of Read ``ab``'s lines (one per timepoint)."""
        return [layer for layer in self.viewer.layers
                if layer.metadata.get("recist", {}).get("kind") == "review_lines"
                and layer.metadata["recist"].get("read") == ab]

    def adjudicate(self, choice: str, reason: str) -> bool:
        """Select Read ``choice`` ("A" or "B") with a written reason (``adjudicate``)."""
        if (self.project is None and self.remote is None) or self.subject is None:
            show_error("recist review: open a subject to adjudicate first")
            return False
        if self.remote is not None:
            password = self._signing_password(f"sign the adjudication of {self.subject}")
            done = self._call(self.remote.adjudicate, self.subject, choose=choice, reason=reason,
                              password=password) if password else None
        else:
            done = self._call(self.project.adjudicate, self.subject, choose=choice, reason=reason, as_=self.identity)
        if done is None:
            return False
        self.adjudication_reason.clear()
        self.triggers.setText(self.triggers.text() + f" Adjudicated: Read {done['choice']} ({done['reason']}).")
        show_info(f"recist review: {self.subject}: Read {done['choice']} selected")
        self.refresh_subjects()
        return True
