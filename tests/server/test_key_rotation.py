"""Rotating the server key on the server machine (no server running): an interrupted rotation is finished
by running it again with the same new key, and a rotation that would leave a served project behind is
refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from review.conftest import CHARTER, NOW, timepoints

from recist.errors import ReviewStateError
from recist.review import key_rotation
from recist.review.keys import SigningKey, project_state_dir
from recist.review.workflow import ReviewProject


def test_an_interrupted_rotation_is_finished_by_running_it_again(tmp_path: Path, monkeypatch) -> None:
    root, home = tmp_path / "review", tmp_path / "server-home"
    project = ReviewProject.init(root, CHARTER, as_="PM1", now=NOW)
    project.add_subject("NET-001", timepoints(), as_="PM1", now=NOW, check_images=False)
    old = SigningKey.load_or_create(home)
    ReviewProject.open(root, signer=old).install_server_key(as_="PM1", now=NOW)
    project_state_dir(root, home).mkdir(parents=True)
    other = project_state_dir(tmp_path / "another-project", home)
    other.mkdir(parents=True)
    with pytest.raises(ReviewStateError, match="also signs another-project"):
        key_rotation.rotate([root], as_="PM1", home=home)
    other.rmdir()

    real_replace = os.replace

    def crash(src, dst):  # the machine stops after the projects were rotated, before the key file is replaced
        if str(src).endswith(".new"):
            raise OSError("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(key_rotation.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        key_rotation.rotate([root], as_="PM1", home=home)
    monkeypatch.setattr(key_rotation.os, "replace", real_replace)
    assert SigningKey.find(home).key_id == old.key_id and (home / "server.key.new").exists()
    pending = SigningKey.load(home / "server.key.new")
    assert (root / "server_key.pub").read_bytes() == pending.public_pem()

    assert key_rotation.rotate([root], as_="PM1", home=home) == (old.key_id, pending.key_id)
    assert SigningKey.find(home).key_id == pending.key_id and not (home / "server.key.new").exists()
    rotations = [e for e in ReviewProject.open(root).audit.entries() if e["action"] == "server-key-rotate"]
    assert len(rotations) == 1  # the project rotated before the crash is not rotated twice
    assert ReviewProject.open(root).verify(trusted_key=pending.public) == []
    assert ReviewProject.open(root).verify(trusted_key=old.public) == []
