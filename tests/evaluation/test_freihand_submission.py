"""FreiHAND submission writer: pred.json layout ([xyz_list, verts_list], metres), zip, validation."""
import json
import zipfile

import numpy as np
import pytest

from pointhmr.evaluation.freihand_submission import (freihand_submission_json, read_freihand_submission,
                                                     write_freihand_submission)


def test_layout_is_freihands_two_lists_in_sample_order(tmp_path):
    rng = np.random.default_rng(0)
    joints, vertices = rng.normal(0, 0.05, (2, 21, 3)), rng.normal(0, 0.05, (2, 778, 3))
    json_path, zip_path = write_freihand_submission(str(tmp_path) + '/', joints, vertices)
    assert json_path.endswith('/pred.json') and zip_path.endswith('/pred.zip')
    with open(json_path) as f:
        content = json.load(f)
    assert len(content) == 2 and len(content[0]) == 2 and len(content[1]) == 2
    assert np.asarray(content[0][1]).shape == (21, 3) and np.asarray(content[1][0]).shape == (778, 3)
    np.testing.assert_allclose(content[0][1], joints[1], atol=1e-6)
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ['pred.json']
    read_joints, read_vertices = read_freihand_submission(zip_path)
    np.testing.assert_allclose(read_vertices, vertices, atol=1e-6)


@pytest.mark.parametrize('joints, vertices, match', [
    (np.zeros((1, 17, 3)), np.zeros((1, 778, 3)), r'joints of sample 0 must be finite \(21, 3\)'),
    (np.zeros((1, 21, 3)), np.zeros((1, 6890, 3)), r'vertices of sample 0 must be finite \(778, 3\)'),
    (np.zeros((2, 21, 3)), np.zeros((1, 778, 3)), '2 joint sets but 1 meshes'),
    (np.full((1, 21, 3), np.nan), np.zeros((1, 778, 3)), 'finite'),
])
def test_bad_predictions_are_refused(joints, vertices, match):
    with pytest.raises(ValueError, match=match):
        freihand_submission_json(joints, vertices)
