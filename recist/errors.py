"""Exceptions raised by recist.

Every message says what is wrong, where (file, lesion, timepoint, series, tag) and how to fix it.
The CLI turns any :class:`RecistError` into a one-line message and a non-zero exit status.
"""

from __future__ import annotations

__all__ = [
    "RecistError",
    "RecistValidationError",
    "UnsupportedFormatError",
    "DicomLoadError",
    "SuvError",
    "MeasurementError",
    "ReviewStateError",
    "BlindingError",
    "AuditError",
    "AuditRollbackError",
    "ExchangeError",
    "AuthenticationError",
]


def _shown(text: str) -> str:
    """``text`` as is when printable, else its repr (a newline in a file name keeps the message one line)."""
    return text if text.isprintable() else repr(text)


class RecistError(Exception):
    """Base class of every error recist raises on purpose."""


class RecistValidationError(RecistError, ValueError):
    """Input that breaks the case-file contract or a model invariant.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    source
        The file (or other origin) the bad input came from, if known.
    field
        The dotted path of the offending field (``timepoints[1].targets.T1.long_axis_mm``).
    lesion, timepoint
        The lesion id and timepoint label concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str | None = None,
        lesion: str | None = None,
        timepoint: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.field = field
        self.lesion = lesion
        self.timepoint = timepoint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source:
            where.append(_shown(str(self.source)))
        if self.timepoint:
            where.append(f"timepoint {self.timepoint!r}")
        if self.lesion:
            where.append(f"lesion {self.lesion!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def with_source(self, source: str) -> RecistValidationError:
        """Return a copy of this error that names the file it came from."""
        return RecistValidationError(
            self.message, source=source, field=self.field, lesion=self.lesion, timepoint=self.timepoint
        )


class UnsupportedFormatError(RecistValidationError):
    """A JSON file whose ``format`` key names a version this release cannot read."""


class DicomLoadError(RecistError):
    """A DICOM file or series that cannot be read or whose geometry is inconsistent."""


class SuvError(RecistError):
    """A PET header that lacks what SUV conversion needs (names the DICOM tag)."""


class MeasurementError(RecistError):
    """A mask, line or image that cannot be measured (wrong geometry, empty label ...)."""


class ReviewStateError(RecistError):
    """An action the central-review workflow does not allow in the current state."""


class BlindingError(ReviewStateError):
    """An operation refused because the person may not see or change what was asked."""


class AuditError(RecistError):
    """An audit trail or stored read that fails verification."""


class AuditRollbackError(AuditError):
    """A served project whose audit trail is older than the head its server witnessed (a restored old copy)."""


class AuthenticationError(RecistError):
    """A login or signing password refused: unknown user, wrong password, locked or disabled account."""


class ExchangeError(RecistError):
    """A malformed SDTM, Dataset-JSON or DICOM SR file (names the record)."""
