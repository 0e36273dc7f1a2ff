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


def test_rotation_removes_the_old_checkpoint_only_after_the_new_one_is_complete(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_BACKEND_NAME))
    backend.put(b'checkpoint 1', tmp_path / 'iter_1.pth')
    # mmengine's CheckpointHook with max_keep_ckpts=1: remove the old checkpoint, then write the new one
    backend.remove(tmp_path / 'iter_1.pth')
    assert (tmp_path / 'iter_1.pth').is_file()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'checkpoint 2', tmp_path / 'iter_2.pth')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_1.pth']  # the old one survives the kill
    monkeypatch.undo()
    backend.put(b'checkpoint 2', tmp_path / 'iter_2.pth')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth']
    backend.put_text('x', tmp_path / 'last_checkpoint')
    backend.remove(tmp_path / 'last_checkpoint')  # other files are removed at once
    assert not (tmp_path / 'last_checkpoint').exists()
