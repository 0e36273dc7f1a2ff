"""The one restricted unpickler: both allow-lists refuse builtins functions, code-running globals and foreign codecs."""
import pickle

import numpy as np
import pytest
import torch

from pointhmr.fileio.safe_pickle import (OFFICIAL_CHECKPOINT, SMPL_DATA, AllowList, UnsafeCheckpointError,
                                         UnsafePickleError, restricted_loads)


def test_chain_really_runs_code_with_plain_pickle(tmp_path, getattr_exec_chain):
    marker = tmp_path / 'ran'
    pickle.loads(getattr_exec_chain(f'open({str(marker)!r}, "w").close()'))
    assert marker.exists()  # the payload is real: the refusals below are what protects us


@pytest.mark.parametrize('allow_list', [SMPL_DATA, OFFICIAL_CHECKPOINT], ids=['smpl', 'checkpoint'])
def test_getattr_chain_is_refused(allow_list, tmp_path, getattr_exec_chain):
    marker = tmp_path / 'ran'
    with pytest.raises(UnsafePickleError, match='builtins.getattr'):
        restricted_loads(getattr_exec_chain(f'open({str(marker)!r}, "w").close()'), allow_list, source='evil.pkl')
    assert not marker.exists()


def test_builtin_functions_are_refused_even_when_listed():
    careless = AllowList(name='test', globals={'builtins.getattr': getattr, 'builtins.eval': eval, 'x.alias': eval})
    for module, name in (('builtins', 'getattr'), ('__builtin__', 'eval'), ('x', 'alias')):
        with pytest.raises(UnsafePickleError):
            restricted_loads(f'c{module}\n{name}\n.'.encode(), careless)


def test_torch_process_wide_safe_globals_do_not_widen_the_lists(getattr_exec_chain):
    with torch.serialization.safe_globals([getattr, eval]):
        with pytest.raises(UnsafeCheckpointError, match='builtins.getattr'):
            restricted_loads(getattr_exec_chain('print(1)'), OFFICIAL_CHECKPOINT)


def test_codecs_encode_only_for_latin1_bytes():
    assert restricted_loads(pickle.dumps(b'\x00\xffab', protocol=2), SMPL_DATA) == b'\x00\xffab'
    evil = b'\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x03\x00\x00\x00hex\x86R.'
    with pytest.raises(UnsafePickleError, match='latin-1'):
        restricted_loads(evil, SMPL_DATA)


def test_safe_containers_still_load():
    data = {'a': np.arange(3.0), 's': {1, 2}, 'f': frozenset([3])}
    out = restricted_loads(pickle.dumps(data, protocol=2), SMPL_DATA)
    assert out['s'] == {1, 2} and out['f'] == frozenset([3]) and np.array_equal(out['a'], data['a'])
