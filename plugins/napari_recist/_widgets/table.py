"""Case table widget: lesions x timepoints, sums, % change, responses (recist.assess); click to navigate."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_recist._controller import CaseController, CaseTable
from napari_recist._session import get_session

__all__ = ["CaseTableWidget", "CRITERIA"]

CRITERIA = ("RECIST 1.1", "iRECIST")
"""The criteria a case can be read by (the case file's ``protocol.criteria``)."""

_PROBLEM = QColor("#ff8a65")
_CURRENT = QColor("#3d5a80")
_NONE = QColor(0, 0, 0, 0)


class CaseTableWidget(QWidget):
    """The case of ``viewer``'s session as a table, rebuilt after every change.

    With ``bind_session=False`` the table shows ``controller`` only, not the case being read in the
    viewer (the adjudicator's Read A / Read B tables); a click then shows that case's lesion position.
    The "Criteria" box reads the case by RECIST 1.1 or by iRECIST too (its ``protocol.criteria``; the
    table then adds the iRECIST rows and the iBOR); it is read-only for a table of someone else's read.
    """

    def __init__(self, napari_viewer, controller: CaseController | None = None, parent=None, *,
                 bind_session: bool = True) -> None:
        super().__init__(parent)
        viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)  # napari passes a PublicOnlyProxy
        self.viewer = viewer
        self.session = get_session(viewer)
        self._own = None if bind_session else controller
        if controller is not None and bind_session:
            self.session.set_controller(controller)
        self.table_widget = QTableWidget()
        self.table_widget.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table_widget.cellClicked.connect(self._on_click)
        self.best = QLabel("")
        self.best.setStyleSheet("font-weight: bold")
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.criteria = QComboBox()
        self.criteria.addItems(CRITERIA)
        self.criteria.setToolTip("read the case by RECIST 1.1, or by iRECIST beside it (immunotherapy trials)")
        self.criteria.setEnabled(bind_session)
        self.criteria.currentTextChanged.connect(self._on_criteria)
        self._updating = False
        layout = QVBoxLayout(self)
        criteria_row = QFormLayout()
        criteria_row.addRow("Criteria", self.criteria)
        layout.addLayout(criteria_row)
        layout.addWidget(self.table_widget)
        layout.addWidget(self.best)
        layout.addWidget(self.notes)
        self.model: CaseTable | None = None
        rows = self.table_widget.verticalHeader()
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)  # compact rows: more lesions visible
        if bind_session:
            self.session.register_widget("table", self)
        self.session.subscribe(self.refresh)
        self.refresh()

    @property
    def controller(self) -> CaseController | None:
        """The case shown: the session's, or the one given with ``bind_session=False``."""
        return self._own if self._own is not None else self.session.controller

    def refresh(self) -> None:
        """Show the controller's table, changing only the cells that differ."""
        ctl = self.controller
        if ctl is None:
            self.notes.setText("No case open.")
            return
        self._updating = True
        try:
            self.criteria.setCurrentText(ctl.case.protocol.criteria)
        finally:
            self._updating = False
        model = ctl.table()
        self.model = model
        table = self.table_widget
        changed = False
        table.setUpdatesEnabled(False)
        try:
            if table.rowCount() != len(model.rows) or table.columnCount() != len(model.columns) + 1:
                table.setRowCount(len(model.rows))
                table.setColumnCount(len(model.columns) + 1)
                changed = True
            # the reader's table: label over date; the adjudicator's compact Read A / Read B tables: label only
            dated = self._own is None
            headers = [*(_column_header(ctl, label) if dated else label for label in model.columns), "Problem"]
            if [table.horizontalHeaderItem(c).text() if table.horizontalHeaderItem(c) else None
                    for c in range(table.columnCount())] != headers:
                table.setHorizontalHeaderLabels(headers)
            if [table.verticalHeaderItem(r).text() if table.verticalHeaderItem(r) else None
                    for r in range(table.rowCount())] != [row.header for row in model.rows]:
                table.setVerticalHeaderLabels([row.header for row in model.rows])
                changed = True
            for r, row in enumerate(model.rows):  # only the cells whose text or highlight changed
                for c, cell in enumerate(row.cells):
                    item = table.item(r, c)
                    if item is None:
                        item = QTableWidgetItem()
                        item.setTextAlignment(int(Qt.AlignmentFlag.AlignCenter))
                        table.setItem(r, c, item)
                    if item.text() != cell.text:
                        item.setText(cell.text)
                        changed = True
                    current = cell.timepoint == self.session.timepoint and row.lesion_id == self.session.lesion_id
                    colour = _CURRENT if current else _NONE
                    if item.background().color() != colour:
                        item.setBackground(colour)
                problem = table.item(r, len(model.columns))
                if problem is None:
                    problem = QTableWidgetItem()
                    problem.setForeground(_PROBLEM)
                    table.setItem(r, len(model.columns), problem)
                if problem.text() != row.problem:
                    problem.setText(row.problem)
                    problem.setToolTip(row.problem)
                    changed = True
            if changed:
                table.resizeColumnsToContents()  # responses such as NON-CR/NON-PD in full
        finally:
            table.setUpdatesEnabled(True)
        best = f"Best overall response: {model.best_overall_response or '-'}"
        if model.best_i_response:  # the case is read by iRECIST too
            best += f"; iBOR: {model.best_i_response}"
        self.best.setText(best)
        self.notes.setText("\n".join(model.notes))

    def wanted_height(self) -> int:
        """Height (px) showing every row, the header and the best-response and notes lines."""
        table = self.table_widget
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        scroll = table.horizontalScrollBar().sizeHint().height()
        margins = self.layout().contentsMargins()
        labels = self.best.sizeHint().height() + (self.notes.sizeHint().height() if self.notes.text() else 0)
        labels += self.criteria.sizeHint().height() + self.layout().spacing()
        return (table.horizontalHeader().height() + rows + 2 * table.frameWidth() + scroll + labels
                + margins.top() + margins.bottom() + 2 * self.layout().spacing() + 30)  # + the dock's title

    def cell_text(self, header: str, timepoint: str) -> str:
        """The text of a cell by row header and timepoint (for tests and scripts)."""
        model = self.model
        r = next(i for i, row in enumerate(model.rows) if row.header == header)
        c = model.columns.index(timepoint)
        return self.table_widget.item(r, c).text()

    def _on_criteria(self, criteria: str) -> None:
        """The reader chose the criteria: the case is read by them from now on (an undoable edit)."""
        ctl = self.controller
        if self._updating or ctl is None or self._own is not None or criteria == ctl.case.protocol.criteria:
            return
        ctl.set_criteria(criteria)

    def _on_click(self, r: int, c: int) -> None:
        model = self.model
        if model is None or c >= len(model.columns):
            return
        row = model.rows[r]
        if self._own is not None:
            self.session.go_to(model.columns[c], row.lesion_id, controller=self._own)
            return
        self.session.lesion_id = row.lesion_id or self.session.lesion_id
        self.session.go_to(model.columns[c], row.lesion_id)


def _column_header(ctl, label: str) -> str:
    """A timepoint column's header: its label over its scan date (or day since baseline)."""
    tp = next((t for t in ctl.case.timepoints if t.label == label), None)
    if tp is None:
        return label
    when = tp.date.isoformat() if tp.date else (f"day {tp.day}" if tp.day is not None else "")
    return f"{label}\n{when}" if when else label
