"""The document-level attributes of recist's DICOM SRs (:mod:`recist.export.dicom_sr`): whose they are and who
verified them.

- patient and study are those of the referenced images (highdicom copies them; the type 2 ones are made
  present, empty when the images lack them), the Clinical Trial Subject module only as the images have
  it, and the trial subject in the observation context when the images' patient does not name it;
- one patient's measurements are never written into another patient's study, or another day's
  (:func:`check_subject_and_date`);
- observer and verifying observers are DICOM person names; a verified document has one Verifying
  Observer Sequence item per person who signed it (:class:`VerifyingObserver`, PS3.3 C.17.2.1).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from recist.errors import ExchangeError
from recist.io import sr_codes

__all__ = [
    "VerifyingObserver",
    "verifying_observer_item",
    "organization_value",
    "with_type2",
    "person_name",
    "check_subject_and_date",
    "clinical_trial",
    "subject_context",
    "local_scheme",
]


@dataclass(frozen=True)
class VerifyingObserver:
    """A person who verified (signed) the content of an SR document (PS3.3 C.17.2, Verifying Observer).

    Attributes
    ----------
    name
        Printed name (written as a DICOM person name: a name without ``^`` becomes the family name).
    organization
        The organisation the person verified for (Verifying Organization, at most 64 characters).
    time
        When the person signed (timezone-aware; written as Verification DateTime with its UTC offset).
    """

    name: str
    organization: str
    time: _dt.datetime


_TYPE2_PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def with_type2(header: Any) -> Any:
    """A copy of an image header with the type 2 patient/study attributes present (empty if absent).

    highdicom copies them into the SR; DICOM lets them be empty but not missing (PS3.3 C.7.1.1, C.7.2.1).
    """
    import copy

    ds = copy.copy(header)
    for keyword in _TYPE2_PATIENT_STUDY:
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def organization_value(text: str) -> str:
    """``text`` as a Verifying Organization (LO: 1-64 characters, no backslash), stripped.

    Raises
    ------
    ExchangeError
        Naming the value and the rule.
    """
    value = str(text).strip()
    if not value or len(value) > 64 or "\\" in value:
        raise ExchangeError(f"organisation {text!r} must be 1-64 characters without backslashes (DICOM LO)")
    return value


def verifying_observer_item(observer: VerifyingObserver) -> Any:
    """One Verifying Observer Sequence item (PS3.3 C.17.2.1): name, organisation, the signature's date and time.

    Verifying Observer Identification Code Sequence is type 2 and left empty (persons carry no code here).
    """
    from pydicom.dataset import Dataset

    organization = organization_value(observer.organization)
    if observer.time.tzinfo is None:
        raise ExchangeError(f"the signature time of {observer.name!r} has no timezone")
    item = Dataset()
    item.VerifyingObserverName = person_name(observer.name)
    item.VerifyingObserverIdentificationCodeSequence = []
    item.VerifyingOrganization = organization
    item.VerificationDateTime = observer.time.strftime("%Y%m%d%H%M%S.%f%z")
    return item


def person_name(reader: str) -> str:
    """A DICOM PN for a reader: a name without components becomes a family name ("RADIOLOGIST 1^")."""
    if not reader or len(reader) > 64 or "\\" in reader:
        raise ExchangeError(f"reader name {reader!r} must be 1-64 characters without backslashes")
    return reader if "^" in reader else f"{reader}^"


def check_subject_and_date(case: Any, tp: Any, header: Any, *, linked: bool, patient_id: str | None) -> None:
    """Refuse to write one patient's measurements into another patient's study, or into another day's.

    - images carrying a Clinical Trial Subject ID must carry the case's subject;
    - a study found by date only (the timepoint names no image) must be the subject's: its Patient ID is
      the subject, or the Patient ID of the studies the case's other timepoints name (``patient_id``);
      a case whose timepoints name their images links subject and patient itself (trial subject ids and
      hospital patient ids differ by design);
    - the timepoint's date, when given, is the study's date.
    """
    trial_subject = str(getattr(header, "ClinicalTrialSubjectID", "") or "")
    patient = str(getattr(header, "PatientID", "") or "")
    where = f"subject {case.subject!r}, timepoint {tp.label!r}"
    if trial_subject and trial_subject != case.subject:
        raise ExchangeError(
            f"{where}: the images of study {header.StudyInstanceUID} are of trial subject {trial_subject!r}; give "
            "this subject's images (--images) or fix the case's subject"
        )
    if not linked and case.subject not in (trial_subject, patient) and patient != (patient_id or case.subject):
        raise ExchangeError(
            f"{where}: the study dated {tp.date} among the --images is of patient {patient!r}, and nothing links "
            f"that patient to subject {case.subject!r}; add the study to the timepoint's 'images' or give only "
            "this subject's series"
        )
    study_date = str(getattr(header, "StudyDate", "") or "")
    if tp.date is not None and study_date and study_date != tp.date.strftime("%Y%m%d"):
        raise ExchangeError(
            f"subject {case.subject!r}, timepoint {tp.label!r}: dated {tp.date} but its images' study "
            f"{header.StudyInstanceUID} is dated {study_date[:4]}-{study_date[4:6]}-{study_date[6:]}; "
            "fix the timepoint's date or give the right series"
        )


_CLINICAL_TRIAL_SUBJECT = (
    "ClinicalTrialSponsorName",
    "ClinicalTrialProtocolID",
    "ClinicalTrialProtocolName",
    "ClinicalTrialSiteID",
    "ClinicalTrialSiteName",
    "ClinicalTrialSubjectID",
    "ClinicalTrialSubjectReadingID",
)


def clinical_trial(sr: Any, header: Any, subject: str) -> None:
    """The Clinical Trial Subject module exactly as the images have it, and only when they have it.

    Patient and study of an SR must equal those of its images (dcentvfy compares them): an invented
    sponsor or protocol ("UNSPECIFIED") would contradict them. Images without the module identify the
    subject by Patient ID, which :func:`check_subject_and_date` has matched to the case.
    """
    if not str(getattr(header, "ClinicalTrialSubjectID", "") or ""):
        return
    for keyword in _CLINICAL_TRIAL_SUBJECT:
        if keyword in header:
            setattr(sr, keyword, header[keyword].value)


def subject_context(sr: Any, header: Any, subject: str) -> None:
    """Name the trial subject in the observation context when the images' patient does not carry it.

    TID 1006 Subject Context (Subject Class = Patient) with TID 1007's Subject ID (DCM 121030), inserted
    after the observer context: the SR's patient module stays equal to the images' (hospital Patient ID,
    no invented Clinical Trial Subject module) while :mod:`recist.io.sr_import` gets the case's subject.
    """
    from highdicom.sr import CodeContentItem, RelationshipTypeValues, TextContentItem
    from pydicom.sr.codedict import codes

    if subject in (str(getattr(header, "ClinicalTrialSubjectID", "") or ""), str(getattr(header, "PatientID", ""))):
        return
    items = [
        CodeContentItem(name=codes.DCM.SubjectClass, value=codes.DCM.Patient,
                        relationship_type=RelationshipTypeValues.HAS_OBS_CONTEXT),
        TextContentItem(name=codes.DCM.SubjectID, value=subject,
                        relationship_type=RelationshipTypeValues.HAS_OBS_CONTEXT),
    ]  # fmt: skip
    content = sr.ContentSequence
    last = max((k for k, item in enumerate(content) if item.RelationshipType == "HAS OBS CONTEXT"), default=-1)
    for offset, item in enumerate(items, start=1):
        content.insert(last + offset, item)


def local_scheme() -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodingSchemeDesignator = sr_codes.LOCAL_SCHEME
    item.CodingSchemeName = "recist local codes for RECIST 1.1 lesion roles and states"
    item.CodingSchemeResponsibleOrganization = "recist project"
    return item
