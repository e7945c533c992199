"""DICOMweb for remote readers: QIDO-RS search and WADO-RS retrieve of each reader's de-identified series,
and the reader's worklist (``GET /api/worklist``).

What a caller may see is exactly their reader package (:meth:`recist.review.ReviewProject.package`, the
same de-identification, pseudonyms and shifted dates): the server writes the package of each user into
its state folder (outside the project) on the first DICOMweb request and again when subjects were
added, and serves it from there. Scope (DICOM PS3.18 paths under ``/dicomweb``):

- a reader: every subject of their package (in the 2 + 1 paradigm both readers read every subject);
- an adjudicator: only the subjects that need adjudication now (their status list);
- an administrator: every subject (quality control of the de-identified images).

A study, series or instance outside the caller's scope, or unknown (an original, identified UID), is
403 and an audit entry; nothing tells whether it exists. Supported: ``GET /dicomweb/studies``
(``PatientID``, ``StudyInstanceUID`` filters), ``/studies/{study}/series``,
``/studies/{study}/series/{series}/instances``, WADO-RS of a study, a series or an instance
(``multipart/related; type="application/dicom"``) and their ``/metadata`` (DICOM JSON, no bulk data).
``GET /api/worklist`` (readers and adjudicators) lists the caller's subjects with their status and, per
timepoint, the label and shifted date a read must carry and the study and series UIDs to retrieve.

Not supported: other QIDO matching keys, fuzzy matching, rendered or frame-level retrieval, STOW-RS.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

__all__ = ["add_dicomweb_routes"]

_DICOM_JSON = "application/dicom+json"


@dataclass
class _Instance:
    path: Path
    sop_class: str
    number: int | None


@dataclass
class _Series:
    uid: str
    modality: str
    description: str
    instances: dict[str, _Instance] = field(default_factory=dict)


@dataclass
class _Study:
    uid: str
    pseudonym: str
    attributes: dict[str, Any]
    series: dict[str, _Series] = field(default_factory=dict)


def _element(vr: str, *values: Any) -> dict[str, Any]:
    values = tuple(v for v in values if v not in (None, ""))
    return {"vr": vr, "Value": list(values)} if values else {"vr": vr}


def _index(package: Path) -> dict[str, _Study]:
    """Studies of a package folder, from the manifest and the de-identified headers."""
    import pydicom

    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    studies: dict[str, _Study] = {}
    for subject in manifest["subjects"]:
        for timepoint in subject["timepoints"]:
            for path in sorted((package / timepoint["folder"]).glob("*.dcm")):
                ds = pydicom.dcmread(path, stop_before_pixels=True)
                study_uid = str(ds.StudyInstanceUID)
                study = studies.get(study_uid)
                if study is None:
                    study = studies[study_uid] = _Study(study_uid, subject["subject"], {
                        "0020000D": _element("UI", study_uid),
                        "00100020": _element("LO", str(ds.get("PatientID", ""))),
                        "00100010": _element("PN", *([{"Alphabetic": str(ds.PatientName)}]
                                                     if ds.get("PatientName") else [])),
                        "00080020": _element("DA", str(ds.get("StudyDate", ""))),
                        "00081030": _element("LO", str(ds.get("StudyDescription", ""))),
                    })
                series_uid = str(ds.SeriesInstanceUID)
                series = study.series.setdefault(series_uid, _Series(
                    series_uid, str(ds.get("Modality", "")), str(ds.get("SeriesDescription", ""))))
                number = ds.get("InstanceNumber")
                series.instances[str(ds.SOPInstanceUID)] = _Instance(path, str(ds.SOPClassUID),
                                                                    int(number) if number is not None else None)
    return studies


class _Packages:
    """Each user's reader package in the server's state folder, written on first use."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.base = state.state_dir / "dicomweb"
        self._locks: dict[str, threading.Lock] = {}
        self._index: dict[str, tuple[frozenset[str], dict[str, _Study]]] = {}
        self._guard = threading.Lock()

    def studies(self, user: str) -> dict[str, _Study]:
        project = self.state.project
        subjects = frozenset(project.subject_pseudonyms())
        with self._guard:
            lock = self._locks.setdefault(user, threading.Lock())
        with lock:
            cached = self._index.get(user)
            if cached is not None and cached[0] == subjects:
                return cached[1]
            folder = self.base / user
            if not self._complete(folder, subjects):
                fresh = self.base / f".{user}.{secrets.token_hex(4)}"
                project.package(user, fresh, as_=user)
                if folder.exists():
                    shutil.rmtree(folder)
                fresh.rename(folder)
            studies = _index(folder)
            self._index[user] = (subjects, studies)
            return studies

    def manifest(self, user: str) -> dict[str, Any]:
        """The manifest of ``user``'s package (written first if needed)."""
        self.studies(user)
        return json.loads((self.base / user / "manifest.json").read_text(encoding="utf-8"))

    @staticmethod
    def _complete(folder: Path, subjects: frozenset[str]) -> bool:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return frozenset(s["subject"] for s in manifest.get("subjects", [])) == subjects


def _multipart(paths: Iterator[Path]) -> Response:
    boundary = secrets.token_hex(16)
    chunks = []
    for path in paths:
        chunks += [f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode(), path.read_bytes(), b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return Response(b"".join(chunks),
                    media_type=f'multipart/related; type="application/dicom"; boundary={boundary}')


def _metadata(paths: Iterator[Path]) -> JSONResponse:
    import pydicom

    datasets = []
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        datasets.append(ds.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=lambda _e: ""))
    return JSONResponse(datasets, media_type=_DICOM_JSON)


def add_dicomweb_routes(app: FastAPI, state: Any, caller: Callable[..., Any]) -> None:
    """Add the ``/dicomweb`` routes (see the module docstring) to ``app``."""
    packages = _Packages(state)
    project = state.project

    def scope(who: Any) -> dict[str, _Study]:
        """The studies ``who`` may see."""
        if who.role == "adjudicator":
            allowed = {row["subject"] for row in project.status(as_=who.user) if not row.get("adjudicated")}
            base = packages.studies(who.user)
            return {uid: s for uid, s in base.items() if s.pseudonym in allowed}
        return packages.studies(who.user)

    def refuse(who: Any, request: Request) -> HTTPException:
        project.log_event(actor=who.user, action="refused",
                          details={"attempted": "dicomweb", "path": request.url.path[:300]})
        return HTTPException(403, f"{who.user!r} may not see this study, series or instance")

    def find(who: Any, request: Request, study: str, series: str | None = None, sop: str | None = None
             ) -> tuple[_Study, _Series | None, _Instance | None]:
        found = scope(who).get(study)
        s = found.series.get(series) if found is not None and series is not None else None
        i = s.instances.get(sop) if s is not None and sop is not None else None
        if found is None or (series is not None and s is None) or (sop is not None and i is None):
            raise refuse(who, request)
        return found, s, i

    def paths(study: _Study, series: _Series | None = None, instance: _Instance | None = None) -> Iterator[Path]:
        if instance is not None:
            yield instance.path
            return
        for s in [series] if series is not None else study.series.values():
            for i in s.instances.values():
                yield i.path

    @app.get("/api/worklist")
    def worklist(who: Any = Depends(caller)) -> list[dict[str, Any]]:  # noqa: B008
        """The caller's subjects: status and, per timepoint, the label and (shifted) date a read must carry
        and the DICOMweb study and series UIDs of its images."""
        rows = {row["subject"]: row for row in project.status(as_=who.user)}
        if who.role == "administrator":
            raise HTTPException(403, "the worklist is a reader's or adjudicator's view: see /api/status")
        out = []
        for subject in packages.manifest(who.user)["subjects"]:
            row = rows.get(subject["subject"])
            if row is None:
                continue
            out.append({**row, "timepoints": [
                {"label": tp["label"], "date": tp["date"],
                 "studies": sorted({s["study_uid"] for s in tp["series"]}),
                 "series": [{"series_uid": s["series_uid"], "modality": s["modality"], "instances": s["files"]}
                            for s in tp["series"]]}
                for tp in subject["timepoints"]]})
        return out

    @app.get("/dicomweb/studies")
    def search_studies(request: Request, who: Any = Depends(caller)) -> JSONResponse:  # noqa: B008
        patient = request.query_params.get("PatientID") or request.query_params.get("00100020")
        wanted = request.query_params.get("StudyInstanceUID") or request.query_params.get("0020000D")
        rows = []
        for study in scope(who).values():
            if (patient and study.pseudonym != patient) or (wanted and study.uid != wanted):
                continue
            modalities = sorted({s.modality for s in study.series.values() if s.modality})
            rows.append({**study.attributes, "00080061": _element("CS", *modalities),
                         "00201206": _element("IS", len(study.series)),
                         "00201208": _element("IS", sum(len(s.instances) for s in study.series.values()))})
        return JSONResponse(rows, media_type=_DICOM_JSON)

    @app.get("/dicomweb/studies/{study}/series")
    def search_series(study: str, request: Request, who: Any = Depends(caller)) -> JSONResponse:  # noqa: B008
        found, _, _ = find(who, request, study)
        rows = [{"0020000D": _element("UI", found.uid), "0020000E": _element("UI", s.uid),
                 "00080060": _element("CS", s.modality), "0008103E": _element("LO", s.description),
                 "00201209": _element("IS", len(s.instances))} for s in found.series.values()]
        return JSONResponse(rows, media_type=_DICOM_JSON)

    @app.get("/dicomweb/studies/{study}/series/{series}/instances")
    def search_instances(study: str, series: str, request: Request,
                         who: Any = Depends(caller)) -> JSONResponse:  # noqa: B008
        found, s, _ = find(who, request, study, series)
        assert s is not None
        rows = [{"0020000D": _element("UI", found.uid), "0020000E": _element("UI", s.uid),
                 "00080016": _element("UI", i.sop_class), "00080018": _element("UI", uid),
                 "00200013": _element("IS", i.number)} for uid, i in s.instances.items()]
        return JSONResponse(rows, media_type=_DICOM_JSON)

    @app.get("/dicomweb/studies/{study}")
    def retrieve_study(study: str, request: Request, who: Any = Depends(caller)) -> Response:  # noqa: B008
        return _multipart(paths(find(who, request, study)[0]))

    @app.get("/dicomweb/studies/{study}/metadata")
    def study_metadata(study: str, request: Request, who: Any = Depends(caller)) -> JSONResponse:  # noqa: B008
        return _metadata(paths(find(who, request, study)[0]))

    @app.get("/dicomweb/studies/{study}/series/{series}")
    def retrieve_series(study: str, series: str, request: Request,
                        who: Any = Depends(caller)) -> Response:  # noqa: B008
        found, s, _ = find(who, request, study, series)
        return _multipart(paths(found, s))

    @app.get("/dicomweb/studies/{study}/series/{series}/metadata")
    def series_metadata(study: str, series: str, request: Request,
                        who: Any = Depends(caller)) -> JSONResponse:  # noqa: B008
        found, s, _ = find(who, request, study, series)
        return _metadata(paths(found, s))

    @app.get("/dicomweb/studies/{study}/series/{series}/instances/{sop}")
    def retrieve_instance(study: str, series: str, sop: str, request: Request,
                          who: Any = Depends(caller)) -> Response:  # noqa: B008
        found, s, i = find(who, request, study, series, sop)
        return _multipart(paths(found, s, i))

    @app.get("/dicomweb/studies/{study}/series/{series}/instances/{sop}/metadata")
    def instance_metadata(study: str, series: str, sop: str, request: Request,
                          who: Any = Depends(caller)) -> JSONResponse:  # noqa: B008
        found, s, i = find(who, request, study, series, sop)
        return _metadata(paths(found, s, i))
