"""Reader packages over the API: ``recist review package --server URL`` (administrators only).

Writing a package de-identifies every series of every subject, which takes minutes for a trial, so it
runs as a job in the server (a thread) while the client polls it:

- ``POST /api/packages`` ``{"reader", "subjects": [...] | null, "earlier": MANIFEST | null}`` starts the
  job and answers ``202 {"job": ID}``. ``earlier`` is the manifest of the package the administrator
  already has on their machine (``OUT`` of an earlier run): the job starts from it, so, exactly as
  :meth:`recist.review.ReviewProject.package` into an earlier package folder, only the subjects not yet
  in it are written.
- ``GET /api/packages/ID?since=N`` ``{"state": "running" | "archiving" | "done" | "failed", "done",
  "total", "written", "status", "detail"}``: subjects written so far, of how many (null until the first
  is done), the pseudonyms written after the first N; for a failed job the HTTP status and the one-line reason the same request
  would have had (403 refused, 404 unknown subject, 409 not allowed now ...).
- ``GET /api/packages/ID/archive`` (once done): the new part of the package as an uncompressed tar (the
  manifest and the folders of the subjects added), streamed from a file; the job's files are removed once
  it is sent.

The package is written by the same library function as the CLI's (:func:`recist.review.packaging.write_package`,
audited as ``package``) into the job's folder under the server's state folder (``exports/``, outside the
project, private); jobs not fetched within :data:`JOB_KEEP_S` are removed, and a server restart removes
every job. A job belongs to the administrator who started it: anyone else gets 404.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from recist._atomic import atomic_write_bytes, dumps_stable, make_private_folder
from recist.errors import RecistError
from recist.review.packaging import MANIFEST_NAME

__all__ = ["PackageJobs", "add_package_routes", "JOB_KEEP_S"]

log = logging.getLogger(__name__)

JOB_KEEP_S = 3600.0
"""Seconds a finished job's files are kept when the client does not fetch them."""


class _PackageRequest(BaseModel):
    reader: str = Field(max_length=200)
    subjects: list[str] | None = Field(default=None, max_length=100_000)
    earlier: dict[str, Any] | None = None


@dataclass
class _Job:
    id: str
    user: str
    reader: str
    folder: Path
    state: str = "running"
    done: int = 0
    total: int | None = None
    written: list[str] = field(default_factory=list)
    status: int | None = None
    detail: str | None = None
    finished: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def view(self, since: int = 0) -> dict[str, Any]:
        with self.lock:
            return {"job": self.id, "reader": self.reader, "state": self.state, "done": self.done,
                    "total": self.total, "written": self.written[max(since, 0):], "status": self.status,
                    "detail": self.detail}

    @property
    def archive(self) -> Path:
        return self.folder / "package.tar"


class PackageJobs:
    """The package jobs of one server (see the module docstring).

    Parameters
    ----------
    project
        The served :class:`recist.review.ReviewProject`.
    base
        The folder of the jobs (emptied now: jobs do not outlive the server).
    http_error
        Maps a RecistError to the HTTPException the API answers with.
    """

    def __init__(self, project: Any, base: Path, http_error: Callable[[RecistError], HTTPException]) -> None:
        self.project = project
        self.base = base
        self._http_error = http_error
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        if base.exists():
            shutil.rmtree(base)
        make_private_folder(base)

    def start(self, user: str, reader: str, subjects: list[str] | None, earlier: dict[str, Any] | None) -> _Job:
        """Start writing ``reader``'s package for ``user`` (an administrator) in a thread."""
        self._expire()
        job = _Job(id=secrets.token_urlsafe(16), user=user, reader=reader, folder=self.base / secrets.token_hex(8))
        make_private_folder(job.folder)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, subjects, earlier), name=f"package-{reader}",
                         daemon=True).start()
        return job

    def get(self, job_id: str, user: str) -> _Job:
        """The job ``job_id`` of ``user`` (404 when unknown, removed, or someone else's)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.user != user:
            raise HTTPException(404, "no such package job (it finished more than an hour ago, the server "
                                     "restarted, or it is not yours): start the package again")
        return job

    def detach(self, job: _Job) -> None:
        """Take ``job`` off the list (its files stay)."""
        with self._lock:
            self._jobs.pop(job.id, None)

    def forget(self, job: _Job) -> None:
        """Take ``job`` off the list and remove its files."""
        self.detach(job)
        shutil.rmtree(job.folder, ignore_errors=True)

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [j for j in self._jobs.values() if j.finished is not None and now - j.finished > JOB_KEEP_S]
        for job in old:
            self.forget(job)

    def _run(self, job: _Job, subjects: list[str] | None, earlier: dict[str, Any] | None) -> None:
        out = job.folder / "package"

        def progress(done: int, total: int, pseudonym: str) -> None:
            with job.lock:
                job.done, job.total = done, total
                job.written.append(pseudonym)

        try:
            if earlier is not None:  # start from the client's package: only subjects not in it are written
                make_private_folder(out)
                atomic_write_bytes(out / MANIFEST_NAME, dumps_stable(earlier).encode("utf-8"))
            self.project.package(job.reader, out, as_=job.user, subjects=subjects, progress=progress)
            with job.lock:
                job.state = "archiving"
            self._archive(out, job.archive, earlier)
            shutil.rmtree(out)
            with job.lock:
                job.state = "done"
        except RecistError as exc:
            http = self._http_error(exc)
            with job.lock:
                job.state, job.status, job.detail = "failed", http.status_code, str(http.detail)
        except Exception:  # noqa: BLE001 - a job's failure is reported to its client, not lost in a thread
            log.exception("package job for reader %s failed", job.reader)
            with job.lock:
                job.state, job.status = "failed", 500
                job.detail = "the server failed while writing the package; see the server's log"
        finally:
            with job.lock:
                job.finished = time.monotonic()

    @staticmethod
    def _archive(out: Path, archive: Path, earlier: dict[str, Any] | None) -> None:
        """Tar the manifest and the subject folders that are new (those of ``earlier`` are not resent)."""
        had = {e.get("subject") for e in (earlier or {}).get("subjects", []) if isinstance(e, dict)}
        with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(out / MANIFEST_NAME, arcname=MANIFEST_NAME)
            for folder in sorted(p for p in out.iterdir() if p.is_dir() and p.name not in had):
                tar.add(folder, arcname=folder.name)


def add_package_routes(app: FastAPI, jobs: PackageJobs, *, caller: Callable[..., Any],
                       require_admin: Callable[..., None]) -> None:
    """Add ``/api/packages`` (see the module docstring); ``caller`` is the authenticated-caller dependency."""

    @app.post("/api/packages", status_code=202)
    def start_package(body: _PackageRequest, who: Any = Depends(caller)) -> dict[str, Any]:  # noqa: B008
        require_admin(who, "package reads")
        job = jobs.start(who.user, body.reader, body.subjects or None, body.earlier)
        return job.view()

    @app.get("/api/packages/{job_id}")
    def package_job(job_id: str, since: int = 0, who: Any = Depends(caller)) -> dict[str, Any]:  # noqa: B008
        return jobs.get(job_id, who.user).view(since)

    @app.get("/api/packages/{job_id}/archive")
    def package_archive(job_id: str, who: Any = Depends(caller)) -> FileResponse:  # noqa: B008
        job = jobs.get(job_id, who.user)
        view = job.view()
        if view["state"] != "done":
            raise HTTPException(409, f"the package job is {view['state']}: fetch it once it is done")
        jobs.detach(job)  # fetched: gone for the next request; its files go once the archive is sent
        return FileResponse(job.archive, media_type="application/x-tar", filename=f"package-{job.reader}.tar",
                            background=BackgroundTask(shutil.rmtree, job.folder, ignore_errors=True))
