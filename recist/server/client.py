"""The client of the review server (httpx): what ``recist review ... --server URL`` and the plugin call.

The login token is kept in the user's configuration (``$XDG_CONFIG_HOME/recist/tokens.json``, mode
0600), one entry per server URL, with the CA certificate to trust for that server when it is not in the
system store. A token ends when the session does (30 minutes idle); log in again then.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from recist._atomic import atomic_write_json
from recist.errors import (
    AuthenticationError,
    BlindingError,
    RecistError,
    RecistValidationError,
    ReviewStateError,
)

__all__ = ["ReviewClient", "token_file", "saved_login", "save_login", "forget_login"]

_TIMEOUT_S = 60.0
_POLL_S = 0.25  # how often a package job is asked for its progress


def token_file() -> Path:
    """``$XDG_CONFIG_HOME/recist/tokens.json`` (``~/.config`` when unset)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "recist" / "tokens.json"


def _normal(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise RecistValidationError(f"server URL {url!r} must start with https:// (or http:// on loopback)")
    return url


def _load_tokens() -> dict[str, Any]:
    path = token_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise RecistValidationError(f"{path}: unreadable; delete it and log in again") from None
    return data if isinstance(data, dict) else {}


def saved_login(url: str) -> dict[str, Any] | None:
    """The saved ``{"token", "user", "ca_cert"}`` of ``url``, or None."""
    entry = _load_tokens().get(_normal(url))
    return entry if isinstance(entry, dict) else None


def save_login(url: str, *, token: str, user: str, ca_cert: str | None) -> Path:
    """Keep the token of ``url`` in :func:`token_file` (mode 0600, folder 0700)."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tokens = _load_tokens()
    tokens[_normal(url)] = {"token": token, "user": user, "ca_cert": ca_cert}
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    path.chmod(0o600)
    atomic_write_json(path, tokens)
    return path


def forget_login(url: str) -> None:
    """Forget the token of ``url`` (the CA certificate to trust for it is kept)."""
    tokens = _load_tokens()
    entry = tokens.get(_normal(url))
    if entry is not None and entry.get("token"):
        entry["token"] = None
        atomic_write_json(token_file(), tokens)


def _raise_for(response: httpx.Response, url: str) -> None:
    if response.status_code < 400:
        return
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:200]
    if isinstance(detail, list):  # pydantic validation errors
        detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    _raise_status(response.status_code, detail, url)


def _raise_status(status: int, detail: object, url: str) -> None:
    """The RecistError subclass of an HTTP error ``status`` with the server's one-line ``detail``."""
    message = f"{url}: {detail}"
    if status == 401:
        raise AuthenticationError(f"{message} (log in with `recist review login {url}`)")
    if status == 403:
        raise BlindingError(message)
    if status == 422:
        raise RecistValidationError(message)
    if status in (404, 409):
        raise ReviewStateError(message)
    raise RecistError(f"{message} (HTTP {status})")


class ReviewClient:
    """A logged-in (or not yet) connection to a review server.

    Parameters
    ----------
    url
        ``https://host:port`` of the server.
    token
        The session token (None: the saved one of ``url``).
    ca_cert
        A CA certificate file to trust (a self-signed server); None: the saved one, else the system store.
    """

    def __init__(self, url: str, *, token: str | None = None, ca_cert: str | None = None) -> None:
        self.url = _normal(url)
        saved = saved_login(self.url) or {}
        self.token = token if token is not None else saved.get("token")
        self.ca_cert = ca_cert if ca_cert is not None else saved.get("ca_cert")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=self.ca_cert) if self.ca_cert else True
        self._http = httpx.Client(base_url=self.url, timeout=_TIMEOUT_S, verify=verify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ReviewClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request with the session token; RecistError subclasses for error statuses."""
        try:
            response = self._http.request(method, path, headers=self._headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise RecistError(f"{self.url}: cannot reach the review server ({exc})") from None
        _raise_for(response, self.url)
        return response

    def login(self, user: str, password: str, *, remember: bool = True) -> dict[str, Any]:
        """Log in; keeps the token (in :func:`token_file` when ``remember``)."""
        data = self.request("POST", "/api/login", json={"user": user, "password": password}).json()
        self.token = data["token"]
        if remember:
            save_login(self.url, token=self.token, user=data["user"], ca_cert=self.ca_cert)
        return data

    def logout(self) -> None:
        if self.token:
            self.request("POST", "/api/logout")
        forget_login(self.url)
        self.token = None

    def change_password(self, old: str, new: str) -> dict[str, Any]:
        """Change the logged-in user's own password; this session stays, the user's others end."""
        return self.request("POST", "/api/password", json={"old": old, "new": new}).json()

    # ------------------------------------------------------------------ the review operations
    def me(self) -> dict[str, Any]:
        return self.request("GET", "/api/me").json()

    def worklist(self) -> list[dict[str, Any]]:
        """Readers and adjudicators: subjects, status, and per timepoint the label, date and image UIDs."""
        return self.request("GET", "/api/worklist").json()

    def status(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/status").json()

    def show(self, subject: str, *, reader: str | None = None, version: int | None = None) -> dict[str, Any]:
        params = {k: v for k, v in (("reader", reader), ("version", version)) if v is not None}
        return self.request("GET", f"/api/subjects/{subject}", params=params).json()

    @staticmethod
    def _confirm(confirm_large_diameters: bool) -> dict[str, str]:
        return {"confirm_large_diameters": "true"} if confirm_large_diameters else {}

    def save(self, subject: str, case: dict[str, Any], *, confirm_large_diameters: bool = False) -> int:
        """Save a draft; ``confirm_large_diameters``: the reader confirms diameters above the charter's maximum."""
        response = self.request("PUT", f"/api/subjects/{subject}/read", json=case,
                                params=self._confirm(confirm_large_diameters))
        return int(response.json()["version"])

    def sign(self, subject: str, *, password: str, confirm_large_diameters: bool = False) -> int:
        response = self.request("POST", f"/api/subjects/{subject}/sign", json={"password": password},
                                params=self._confirm(confirm_large_diameters))
        return int(response.json()["version"])

    def amend(self, subject: str, case: dict[str, Any], *, reason: str, password: str,
              confirm_large_diameters: bool = False) -> int:
        body = {"case": case, "reason": reason, "password": password}
        response = self.request("POST", f"/api/subjects/{subject}/amend", json=body,
                                params=self._confirm(confirm_large_diameters))
        return int(response.json()["version"])

    def adjudicate(self, subject: str, *, choose: str, reason: str, password: str) -> dict[str, Any]:
        body = {"choose": choose, "reason": reason, "password": password}
        return self.request("POST", f"/api/subjects/{subject}/adjudicate", json=body).json()

    def import_site_read(self, subject: str, case: dict[str, Any], *,
                         confirm_large_diameters: bool = False) -> dict[str, Any]:
        """Import the site read of ``subject``; ``{"subject", "site_read", "replaced"}`` (``replaced``: the
        import time of the site read this one replaces, None for a first import)."""
        return self.request("PUT", f"/api/subjects/{subject}/site-read", json=case,
                            params=self._confirm(confirm_large_diameters)).json()

    def withdraw_subject(self, subject: str, *, reason: str, withdraw_reads: bool = False) -> dict[str, Any]:
        """Administrators: withdraw ``subject`` (``ReviewProject.withdraw_subject``)."""
        body = {"reason": reason, "withdraw_reads": withdraw_reads}
        return self.request("POST", f"/api/subjects/{subject}/withdraw", json=body).json()

    def correct_timepoints(self, subject: str, timepoints: list[dict[str, Any]], *, reason: str,
                           withdraw_reads: bool = False, check_images: bool = True) -> dict[str, Any]:
        """Administrators: replace the timepoints of ``subject`` (``ReviewProject.correct_timepoints``).

        ``timepoints``: ``{"label", "date" (ISO), "folders" (absolute paths on the server machine)}``.
        """
        body = {"timepoints": timepoints, "reason": reason, "withdraw_reads": withdraw_reads,
                "check_images": check_images}
        return self.request("PUT", f"/api/subjects/{subject}/timepoints", json=body).json()

    def results(self, *, format: str = "json") -> Any:
        """Results of an intact project (refused when it fails verify): rows, or CSV text."""
        response = self.request("GET", "/api/results", params={"format": format})
        return response.text if format == "csv" else response.json()

    def results_ignoring_verify(self, *, format: str = "json") -> tuple[Any, list[str]]:
        """Forensic use: the results even of a project that fails verify, and the verify problems."""
        data = self.request("GET", "/api/results", params={"format": format, "ignore_verify": "true"}).json()
        return data["results"], list(data["verify_problems"])

    def report(self) -> dict[str, Any]:
        return self.request("GET", "/api/report").json()

    def report_ignoring_verify(self) -> tuple[dict[str, Any], list[str]]:
        """Forensic use: the agreement report even of a project that fails verify, and the verify problems."""
        data = self.request("GET", "/api/report", params={"ignore_verify": "true"}).json()
        return data["report"], list(data["verify_problems"])

    def verify(self) -> dict[str, Any]:
        return self.request("GET", "/api/verify").json()

    def audit(self, *, since: str | None = None) -> list[dict[str, Any]]:
        return self.request("GET", "/api/audit", params={"since": since} if since else {}).json()

    # ------------------------------------------------------------------ reader packages (administrators)
    def package(self, reader: str, out: str | os.PathLike[str], *, subjects: Sequence[str] | None = None,
                progress: Callable[[int, int, str], None] | None = None, poll_s: float = _POLL_S) -> dict[str, Any]:
        """Have the server write ``reader``'s package and put it in the local folder ``out``; the manifest.

        ``out`` is a new or empty folder, or an earlier package of ``reader`` (then only the subjects not yet
        in it are written and added, as :meth:`recist.review.ReviewProject.package` does on the server
        machine). ``progress(done, total, pseudonym)`` is called as the server's job writes each subject
        (:mod:`recist.server.packages`). The archive is unpacked next to ``out`` and moved into it only when
        complete, so an interrupted download leaves ``out`` as it was.
        """
        from recist.review.packaging import MANIFEST_NAME, existing_manifest

        out = Path(out)
        earlier = existing_manifest(out, reader, str(self.me().get("trial")))
        body = {"reader": reader, "subjects": list(subjects) if subjects else None, "earlier": earlier}
        job = self.request("POST", "/api/packages", json=body).json()
        seen = 0
        while job["state"] in ("running", "archiving"):
            time.sleep(poll_s)
            job = self.request("GET", f"/api/packages/{job['job']}", params={"since": seen}).json()
            for pseudonym in job["written"]:
                seen += 1
                if progress is not None:
                    progress(seen, int(job["total"]), str(pseudonym))
        if job["state"] == "failed":
            _raise_status(int(job["status"]), str(job["detail"]), self.url)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.download-", dir=out.parent))
        try:
            archive = staging / "package.tar"
            with self._http.stream("GET", f"/api/packages/{job['job']}/archive", headers=self._headers()) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response, self.url)
                with open(archive, "wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
            unpacked = staging / "package"
            with tarfile.open(archive) as tar:
                tar.extractall(unpacked, filter="data")
            manifest = json.loads((unpacked / MANIFEST_NAME).read_text(encoding="utf-8"))
            _move_package(unpacked, out, manifest_name=MANIFEST_NAME)
        except (OSError, tarfile.TarError, ValueError) as exc:
            raise RecistError(f"{self.url}: the package of {reader} could not be unpacked into {out}: {exc}") from None
        except httpx.HTTPError as exc:
            raise RecistError(f"{self.url}: the package download of {reader} failed ({exc}); run it again") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return manifest


def _move_package(unpacked: Path, out: Path, *, manifest_name: str) -> None:
    """Move a downloaded package (or the new subjects of an earlier one) into ``out``, manifest last."""
    from recist._atomic import make_private_folder

    if not out.exists() or not any(out.iterdir()):
        if out.exists():
            out.rmdir()
        unpacked.rename(out)
        make_private_folder(out)
        return
    for folder in sorted(p for p in unpacked.iterdir() if p.is_dir()):
        target = out / folder.name
        if target.exists():  # a subject of an interrupted earlier download that its manifest does not list
            shutil.rmtree(target)
        folder.rename(target)
    os.replace(unpacked / manifest_name, out / manifest_name)
