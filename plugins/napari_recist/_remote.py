"""A remote central read for the Review widget: the review server's API (``recist.server.client``) and its
DICOMweb images (dicomweb-client). Qt-free; no review logic (the server applies the rules).

- :meth:`RemoteReview.login` logs in with a user and password; the token is kept in the client's token
  store (``$XDG_CONFIG_HOME/recist/tokens.json``, mode 0600, see :mod:`recist.server.client`), never the
  password (a session ends after 30 minutes idle: log in again).
- :meth:`RemoteReview.worklist` is the reader's or adjudicator's ``/api/worklist``: pseudonyms, status,
  and per timepoint the label and shifted date a read must carry and the study/series UIDs of its images.
- :meth:`RemoteReview.download` (and :meth:`RemoteReview.download_steps`, one instance at a time, which
  the widget runs in a worker thread) retrieves a subject's series over WADO-RS into the user's cache
  (``$XDG_CACHE_HOME/recist/dicomweb/HOST_PORT/USER/STUDY/SERIES/SOP.dcm``, ``~/.cache`` when unset); a
  series whose instances are all cached is not downloaded again. The cache holds the de-identified
  copies the server gives this user, nothing else.
- Saving, signing, amending and adjudicating are the server's; the signing password is sent in that one
  request and not kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_bytes
from recist.errors import RecistError
from recist.server.client import ReviewClient

__all__ = ["RemoteReview", "cache_root"]


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/recist/dicomweb`` (``~/.cache`` when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "recist" / "dicomweb"


def _safe(part: str) -> str:
    """A URL, user or UID as one folder name (UIDs are digits and dots already)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("._") or "_"


@dataclass
class RemoteReview:
    """A logged-in reader's or adjudicator's connection to a review server.

    Parameters
    ----------
    client
        The logged-in :class:`recist.server.client.ReviewClient`.
    user, role, name
        Who the server says the token belongs to (``/api/login`` or ``/api/me``).
    """

    client: ReviewClient
    user: str
    role: str
    name: str

    @classmethod
    def login(cls, url: str, user: str, password: str, *, ca_cert: str | None = None) -> RemoteReview:
        """Log in as ``user`` (the token goes to the client's token store; the password is not kept)."""
        client = ReviewClient(url, token="", ca_cert=ca_cert or None)
        try:
            data = client.login(user, password, remember=True)
        except RecistError:
            client.close()
            raise
        return cls(client, data["user"], data["role"], data.get("name") or data["user"])

    @property
    def url(self) -> str:
        return self.client.url

    def close(self) -> None:
        self.client.close()

    def logout(self) -> None:
        """End the session on the server and forget the token."""
        try:
            self.client.logout()
        finally:
            self.client.close()

    # ------------------------------------------------------------------ the server's review operations
    def worklist(self) -> list[dict[str, Any]]:
        return self.client.worklist()

    def show(self, subject: str) -> dict[str, Any]:
        return self.client.show(subject)

    def save_read(self, subject: str, case: dict[str, Any]) -> int:
        return self.client.save(subject, case)

    def sign(self, subject: str, *, password: str) -> int:
        return self.client.sign(subject, password=password)

    def amend(self, subject: str, case: dict[str, Any], *, reason: str, password: str) -> int:
        return self.client.amend(subject, case, reason=reason, password=password)

    def adjudicate(self, subject: str, *, choose: str, reason: str, password: str) -> dict[str, Any]:
        return self.client.adjudicate(subject, choose=choose, reason=reason, password=password)

    # ------------------------------------------------------------------ images
    def cache_dir(self) -> Path:
        """This server's and user's folder in :func:`cache_root`."""
        host = self.url.split("://", 1)[1]
        return cache_root() / _safe(host) / _safe(self.user)

    def download(self, row: dict[str, Any]) -> list[tuple[str, Path]]:
        """The series of one worklist row in the cache, downloaded when missing: ``[(label, folder)]``.

        Blocks until done (scripts); the Review widget runs :meth:`download_steps` in a worker thread.

        Raises
        ------
        RecistError
            The server refused or could not be reached (the message names the subject and series).
        """
        steps = self.download_steps(row)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def download_steps(self, row: dict[str, Any]) -> Generator[tuple[int, int], None, list[tuple[str, Path]]]:
        """:meth:`download` one instance at a time: yields ``(instances in the cache, instances of the row)``
        after each instance stored (and once before the first), returns ``[(label, folder)]``.

        Closing the generator between two yields stops the download; the instances stored so far stay in
        the cache and the rest are fetched by the next call.
        """
        import requests
        from dicomweb_client.api import DICOMwebClient

        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides session.verify (psf/requests#3829)
        session.verify = self.client.ca_cert or True
        web = DICOMwebClient(url=f"{self.url}/dicomweb", session=session,
                             headers={"Authorization": f"Bearer {self.client.token}"})
        try:
            plan = []
            for tp in row.get("timepoints", []):
                for series in tp.get("series", []):
                    study = self._study_of(tp, series, web)
                    folder = self.cache_dir() / _safe(study) / _safe(series["series_uid"])
                    plan.append((tp, study, series, folder, int(series.get("instances") or 0)))
            total = sum(expected for *_, expected in plan)
            done = sum(min(len(list(f.glob("*.dcm"))), expected) for *_, f, expected in plan)
            yield done, total
            for tp, study, series, folder, expected in plan:
                have = len(list(folder.glob("*.dcm")))
                if expected and have >= expected:
                    continue
                done -= min(have, expected)
                for _path in self._retrieve(web, study, series["series_uid"], folder,
                                            f"{row['subject']}, {tp['label']}"):
                    done += 1
                    yield min(done, total), total
                if not expected:
                    done = total
            return [(tp["label"], folder) for tp, _study, _series, folder, _expected in plan]
        finally:
            session.close()

    @staticmethod
    def _study_of(tp: dict[str, Any], series: dict[str, Any], web) -> str:
        studies = tp.get("studies") or []
        if len(studies) == 1:
            return studies[0]
        for study in studies:  # several studies at one timepoint: ask which holds the series
            if any(s["0020000E"]["Value"][0] == series["series_uid"] for s in web.search_for_series(study)):
                return study
        raise RecistError(f"series {series['series_uid']} of timepoint {tp['label']} is in none of its studies")

    def _retrieve(self, web, study: str, series: str, folder: Path, where: str) -> Iterator[Path]:
        """Store the instances of one series in ``folder`` as they arrive (WADO-RS, streamed); yields each file."""
        from io import BytesIO

        import requests

        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            for ds in web.iter_series(study, series):
                buffer = BytesIO()
                ds.save_as(buffer, enforce_file_format=True)
                path = folder / f"{_safe(str(ds.SOPInstanceUID))}.dcm"
                atomic_write_bytes(path, buffer.getvalue())
                yield path
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise RecistError(f"{self.url}: the images of {where} (series {series}) were refused "
                              f"(HTTP {status}); log in again if the session ended") from None
        except requests.RequestException as exc:
            raise RecistError(f"{self.url}: cannot download the images of {where} ({exc})") from None
