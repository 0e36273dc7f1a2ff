"""Checkpoint files of plain mmengine runs (pickled HistoryBuffer methods) load without a global getattr."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from pointhmr.engine.checkpoint_io import (history_buffer_statistic, load_checkpoint_file, make_message_hub_portable,
                                           restore_message_hub)
from pointhmr.fileio.safe_pickle import UnsafePickleError


def mmengine_style_checkpoint() -> dict:
    buffer = HistoryBuffer([1.0, 2.0], [1, 1])
    return dict(meta=dict(epoch=0, iter=2),
                state_dict={'w': torch.zeros(2)},
                message_hub=dict(log_scalars={'train/loss': buffer}, runtime_info={}, resumed_keys={}))


def test_mmengine_checkpoint_needs_getattr_but_only_for_history_buffer(tmp_path):
    path = tmp_path / 'mmengine.pth'
    torch.save(mmengine_style_checkpoint(), path)
    with torch.serialization.safe_globals([HistoryBuffer]):
        with pytest.raises(pickle.UnpicklingError, match='GLOBAL getattr'):
            torch.load(path, weights_only=True)  # nothing allow-lists getattr process-wide
    loaded = load_checkpoint_file(str(path))
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.mean() == 1.5
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # the narrow scope ended with the load


def test_history_buffer_statistic_refuses_everything_else():
    assert history_buffer_statistic(HistoryBuffer, 'mean') is HistoryBuffer.mean
    for owner, name in ((getattr, '__self__'), (HistoryBuffer, '__init__'), (HistoryBuffer, '__class__'), (np, 'mean')):
        with pytest.raises(pickle.UnpicklingError):
            history_buffer_statistic(owner, name)


def test_exec_chain_inside_the_scope_is_refused(tmp_path, getattr_exec_chain):
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    evil.write_bytes(getattr_exec_chain(f'open({str(marker)!r}, "w").close()'))
    with pytest.raises(UnsafePickleError, match='evil.pth'):
        load_checkpoint_file(str(evil))
    assert not marker.exists()


def test_portable_message_hub_round_trip():
    checkpoint = mmengine_style_checkpoint()
    make_message_hub_portable(checkpoint)
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss']['log_history'], torch.Tensor)
    assert b'getattr' not in pickle.dumps(checkpoint, protocol=2)
    restore_message_hub(checkpoint)
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.mean() == 1.5 and buffer.current() == 2.0
