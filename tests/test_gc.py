"""recist._gc: the collector is paused inside the block and restored as it was, even on error."""

from __future__ import annotations

import gc

import pytest

from recist._gc import collector_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_is_paused_then_restored(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError), collector_paused():
            raise ValueError("boom")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_find_series_leaves_the_collector_enabled(tmp_path):
    from recist.io.dicom import find_series

    (tmp_path / "notes.txt").write_text("not DICOM")
    assert gc.isenabled()
    find_series(tmp_path)
    assert gc.isenabled()
