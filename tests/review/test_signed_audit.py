"""A forger with full write access to the project folder (not to the server's key) is caught by verify.

The attack of the issue: a signed PR is changed to PD and its signature time moved to 2020; the
forger recomputes the read's hashes, the audit entry's file hash, re-chains every later entry and
rewrites ``audit.head``. Without the server key the signatures cannot be redone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import recist
from recist.cli import main
from recist.review.keys import SigningKey, project_state_dir
from recist.review.workflow import ReviewProject

from .conftest import CHARTER, NOW, package_case, timepoints


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def forge(root: Path, *, resign_with: Ed25519PrivateKey | None = None, strip: bool = False) -> None:
    """The forging script: everything a person with write access to ``root`` can do, done by hand.

    ``resign_with``: the forger's own key replaces the project's public key and re-signs every entry;
    ``strip``: the signatures are removed instead of left stale.
    """
    read_path = next(root.glob("subjects/*/reads/R1.json"))
    read = json.loads(read_path.read_text())
    version = read["versions"][-1]
    case = version["case"]
    case["timepoints"][1]["targets"]["T1"]["long_axis_mm"] = 40.0  # PR (30 -> 20 mm) becomes PD (30 -> 40 mm)
    version["case_sha256"] = hashlib.sha256(_canonical(case)).hexdigest()
    version["assessment"] = recist.assess(recist.parse_case(case)).to_dict()
    block = version["signature"]
    block["time"] = "2020-01-01T09:00:00+00:00"
    block["record_sha256"] = hashlib.sha256(_canonical({k: v for k, v in version.items() if k != "signature"})).hexdigest()
    if resign_with is not None:
        pub = resign_with.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        block["key"] = hashlib.sha256(pub).hexdigest()[:16]
        body = {k: v for k, v in block.items() if k != "sig"}
        block["sig"] = __import__("base64").b64encode(resign_with.sign(_canonical(body))).decode()
        (root / "server_key.pub").write_bytes(resign_with.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    elif strip:
        block.pop("sig", None)
        block.pop("key", None)
    raw = (json.dumps(read, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    read_path.write_bytes(raw)
    rel = read_path.relative_to(root).as_posix()
    file_hashes = {rel: hashlib.sha256(raw).hexdigest(), "server_key.pub": hashlib.sha256(
        (root / "server_key.pub").read_bytes()).hexdigest()}
    lines, prev = [], "0" * 64
    for line in (root / "audit.jsonl").read_text().splitlines():
        entry = json.loads(line)
        for path in entry.get("files") or {}:
            if path in file_hashes and entry["action"] in ("sign", "server-key"):
                entry["files"][path] = file_hashes[path]
        if entry["action"] == "sign":
            entry["time"] = "2020-01-01T09:00:00+00:00"
            entry["details"]["case_sha256"] = version["case_sha256"]
        if resign_with is not None and entry["action"] == "server-key":  # the key id the entry installs, too
            entry["details"]["key"] = block["key"]
        entry["prev"] = prev
        body = {k: v for k, v in entry.items() if k not in ("hash", "key", "sig")}
        entry["hash"] = hashlib.sha256(_canonical(body)).hexdigest()
        if resign_with is not None and "sig" in entry:
            entry["key"] = block["key"]
            entry["sig"] = __import__("base64").b64encode(resign_with.sign(entry["hash"].encode())).decode()
        elif strip:
            entry.pop("sig", None)
            entry.pop("key", None)
        prev = entry["hash"]
        lines.append(_canonical(entry) + b"\n")
    (root / "audit.jsonl").write_bytes(b"".join(lines))
    size = sum(len(line) for line in lines)
    (root / "audit.head").write_text(json.dumps({"seq": len(lines), "hash": prev, "size": size}))


@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, Path]:
    """A project signed by a server key (in ``home``) with R1's signed PR read of NET-001."""
    root, home = tmp_path / "review", tmp_path / "server-home"
    ReviewProject.init(root, CHARTER, as_="PM1", now=NOW)
    key = SigningKey.load_or_create(home)
    project = ReviewProject.open(root, signer=key, names={"R1": "Dr Ada Reader"})
    project.install_server_key(as_="PM1", now=NOW)
    project_state_dir(root, home).mkdir(parents=True)
    p = project.add_subject("NET-001", timepoints(), as_="PM1", now=NOW, check_images=False)
    project.save_read(p, package_case(project, p, [30, 20, 20]), as_="R1", now=NOW)
    project.sign(p, as_="R1", now=NOW + dt.timedelta(hours=1))
    assert project.show(p, as_="PM1", reader="R1")["versions"][-1]["assessment"]["best_overall_response"] == "PR"
    assert project.verify(trusted_key=key.public) == []
    return root, home


def _verify(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["review", "verify", str(root), *args])
    return code, capsys.readouterr().err


def test_a_rewritten_chain_with_stale_signatures_is_detected(served, capsys) -> None:
    root, _home = served
    forge(root)
    code, err = _verify(root, capsys=capsys)  # no trusted key: the project's own public key suffices
    assert code == 1
    assert "the server signature does not match: the entry was rewritten" in err
    assert "the signature block was changed" in err


def test_a_rewritten_chain_with_the_signatures_stripped_is_detected(served, capsys) -> None:
    root, _home = served
    forge(root, strip=True)
    code, err = _verify(root, capsys=capsys)
    assert code == 1
    assert "not signed by the server, although the server key was installed before it" in err
    assert "the signature is not signed by the review server" in err


def test_a_chain_re_signed_with_the_forgers_own_key_is_detected_with_the_servers_key(served, capsys) -> None:
    root, home = served
    forged_key = Ed25519PrivateKey.generate()
    forge(root, resign_with=forged_key)
    # consistent in itself: a verifier that trusted the project's own public key would be fooled ...
    assert ReviewProject.open(root).verify() == []
    # ... so verify trusts the server's key: on the server machine, or a copy given with --public-key
    code, err = _verify(root, "--server-home", str(home), capsys=capsys)
    assert code == 1 and "the public key was replaced" in err
    copy = root.parent / "server_key_copy.pem"
    copy.write_bytes(SigningKey.load_or_create(home).public_pem())
    code, err = _verify(root, "--public-key", str(copy), capsys=capsys)
    assert code == 1 and "the server signature does not match" in err


def test_without_the_key_a_served_project_cannot_be_changed_through_the_library(served) -> None:
    root, _home = served
    project = ReviewProject.open(root)  # no signer: someone with the folder but not the server key
    with pytest.raises(recist.errors.AuditError, match="served by a review server"):
        project.add_subject("NET-002", timepoints(), as_="PM1", now=NOW, check_images=False)
    assert not (root / "journal.json").exists() and not list(root.rglob("*.pending"))
