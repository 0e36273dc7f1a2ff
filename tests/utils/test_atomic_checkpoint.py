import os

import pytest
from mmengine.fileio import get_file_backend

from pointhmr.fileio import atomic_write_bytes
from pointhmr.utils.atomic_checkpoint import ATOMIC_BACKEND_NAME, AtomicLocalBackend


def test_backend_is_registered_for_checkpoint_hooks(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_BACKEND_NAME))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'abc', tmp_path / 'x.pth')
    backend.put_text('iter_2.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'x.pth').read_bytes() == b'abc'
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_2.pth'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['last_checkpoint', 'x.pth']


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    atomic_write_bytes(target, b'old complete checkpoint')

    def crash(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(target, b'new')
    assert target.read_bytes() == b'old complete checkpoint'
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']  # no temporary file left
