"""PointHMRRunner: no config text evaluated on resume, strict loads, clear errors, empty datasets rejected."""
import pickle

import pytest
import torch
from mmengine.config import Config

from pointhmr.fileio.safe_pickle import UnsafePickleError
from pointhmr.models.official_checkpoint import CheckpointMismatchError


def test_checkpoints_need_no_getattr_and_resume_restores_the_message_hub(trained, tmp_path, make_runner):
    checkpoint = torch.load(trained / 'iter_2.pth', map_location='cpu', weights_only=True)  # no getattr allowed
    assert checkpoint['meta']['iter'] == 2
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss']['log_history'], torch.Tensor)
    runner = make_runner(trained, max_iters=3, resume=True, load_from=str(trained / 'iter_2.pth'))
    runner.train()
    assert runner.iter == 3
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 3  # 2 resumed values + 1 new one


def test_resume_never_evaluates_the_config_text_of_a_checkpoint(trained, tmp_path, make_runner):
    marker = tmp_path / 'config_ran'
    evil = f'import os\nopen({str(marker)!r}, "w").close()\ngpu_ids = [0]\n'
    Config.fromstring(evil, file_format='.py')  # what mmengine's Runner.resume does with meta['config']
    assert marker.exists()  # ... runs the code
    marker.unlink()
    checkpoint = torch.load(trained / 'iter_2.pth', map_location='cpu', weights_only=True)
    checkpoint['meta']['config'] = evil
    torch.save(checkpoint, trained / 'iter_2.pth')
    runner = make_runner(trained, max_iters=3, resume=True, load_from=str(trained / 'iter_2.pth'))
    runner.train()
    assert runner.iter == 3 and not marker.exists()


def test_getattr_exec_chain_is_refused_on_resume_and_load(trained, tmp_path, make_runner, getattr_exec_chain):
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    evil.write_bytes(getattr_exec_chain(f'open({str(marker)!r}, "w").close()'))
    with pytest.raises(pickle.UnpicklingError):
        torch.load(evil, map_location='cpu', weights_only=True)  # import pointhmr allow-listed no getattr
    for kwargs in (dict(resume=True), dict(resume=False)):
        with pytest.raises(UnsafePickleError, match='evil.pth'):
            make_runner(trained, max_iters=3, load_from=str(evil), **kwargs).train()
    assert not marker.exists()


def test_state_dict_only_resume_says_to_use_load_from(trained, tmp_path, make_runner):
    weights = tmp_path / 'weights.pth'
    torch.save({'state_dict': torch.load(trained / 'iter_2.pth', weights_only=True)['state_dict']}, weights)
    with pytest.raises(ValueError, match=r'no training state.*load_from'):
        make_runner(trained, max_iters=3, resume=True, load_from=str(weights)).train()
    runner = make_runner(tmp_path / 'fresh', max_iters=1, load_from=str(weights))
    runner.train()  # the same file is fine as load_from


def test_empty_and_truncated_checkpoints_are_named(trained, tmp_path, make_runner):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty.pth.*empty \(0 bytes\)'):
        make_runner(tmp_path / 'a', max_iters=1, load_from=str(empty)).train()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes((trained / 'iter_2.pth').read_bytes()[:500])
    with pytest.raises(ValueError, match=r'cut.pth.*truncated or corrupt'):
        make_runner(tmp_path / 'b', max_iters=1, load_from=str(cut)).train()


def test_load_from_is_strict_with_a_readable_report(trained, tmp_path, make_runner):
    with pytest.raises(CheckpointMismatchError) as error:
        make_runner(tmp_path / 'wide', max_iters=1, width=3, load_from=str(trained / 'iter_2.pth')).train()
    message = str(error.value)
    assert 'iter_2.pth' in message and 'linear.weight: (1, 2) vs (1, 3)' in message and 'load_strict=False' in message
    runner = make_runner(tmp_path / 'wide2',
                         max_iters=1,
                         width=3,
                         load_from=str(trained / 'iter_2.pth'),
                         cfg=dict(load_strict=False))
    runner.train()  # relaxed explicitly: the bias (matching) is loaded, the weight keeps its initial value


def test_empty_training_set_fails_at_start(tmp_path, make_runner):
    with pytest.raises(ValueError, match=r"ToyDataset \(ann_file 'toy.yaml'\) has no samples"):
        make_runner(tmp_path, max_iters=2, dataset_size=0).train()


def test_kill_during_rotation_with_one_kept_checkpoint_leaves_the_previous_one(tmp_path, make_runner, monkeypatch):
    from pointhmr import fileio
    real_write, saves = fileio.atomic_write_bytes, []

    def write(path, data):
        if str(path).endswith('.pth'):
            saves.append(path)
            if len(saves) == 2:
                raise KeyboardInterrupt('killed while writing the second checkpoint')
        real_write(path, data)

    monkeypatch.setattr(fileio, 'atomic_write_bytes', write)
    hooks = dict(checkpoint=dict(
        type='CheckpointHook', interval=1, by_epoch=False, max_keep_ckpts=1, backend_args=dict(backend='atomic_local')))
    with pytest.raises(KeyboardInterrupt):
        make_runner(tmp_path, max_iters=3, default_hooks=hooks).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_1.pth']
    assert torch.load(tmp_path / 'iter_1.pth', weights_only=True)['meta']['iter'] == 1
