import numpy as np
import pytest
import yaml

from pointhmr.datasets import MeshTSVDataset
from pointhmr.datasets.converters import MetroSample, write_metro_split
from pointhmr.datasets.converters.metro_writer import read_image_bytes, split_is_complete


def _samples(tmp_path, write_jpeg, count=2):
    rng = np.random.default_rng(3)
    out = []
    for i in range(count):
        write_jpeg(tmp_path / 'src' / f'{i}.jpg', rng)
        out.append(
            MetroSample(key=f'k{i}.jpg',
                        image_path=str(tmp_path / 'src' / f'{i}.jpg'),
                        annotation=dict(center=[10.0, 12.0], scale=0.2)))
    return out


def test_writes_a_dataset_the_loader_reads(tmp_path, write_jpeg):
    path = write_metro_split(str(tmp_path / 'out'),
                             'val',
                             _samples(tmp_path, write_jpeg),
                             2,
                             dataset_name='demo',
                             progress=False)
    config = yaml.safe_load(open(path))
    assert config == dict(img='val.img.tsv',
                          hw='val.hw.tsv',
                          label='val.label.tsv',
                          linelist='val.linelist.tsv',
                          dataset_name='demo')
    for kind in ('img', 'hw', 'label', 'linelist'):
        assert (tmp_path / 'out' / f'val.{kind}.lineidx').is_file()
    dataset = MeshTSVDataset(ann_file=path)
    assert len(dataset) == 2 and dataset.dataset_name == 'demo'
    assert dataset.get_data_info(1)['img_path'] == 'k1.jpg'


def test_a_split_missing_a_tsv_is_not_complete(tmp_path, write_jpeg):
    path = write_metro_split(str(tmp_path / 'out'), 'val', _samples(tmp_path, write_jpeg), 2, progress=False)
    assert split_is_complete(str(tmp_path / 'out'), 'val')
    (tmp_path / 'out' / 'val.label.tsv').unlink()
    assert not split_is_complete(str(tmp_path / 'out'), 'val')
    write_metro_split(str(tmp_path / 'out'), 'val', _samples(tmp_path, write_jpeg), 2, progress=False)
    assert len(MeshTSVDataset(ann_file=path)) == 2


def test_read_image_bytes_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.jpg' not found \\(hint\\)"):
        read_image_bytes(str(tmp_path / 'absent.jpg'), ' (hint)')
    (tmp_path / 'bad.jpg').write_bytes(b'\xff\xd8 broken')
    with pytest.raises(ValueError, match='not a readable JPEG/PNG'):
        read_image_bytes(str(tmp_path / 'bad.jpg'))


def test_resume_cuts_a_torn_row_and_rejects_another_source(tmp_path, write_jpeg):
    samples = _samples(tmp_path, write_jpeg, count=4)

    def interrupted(rows):
        for i, sample in enumerate(rows):
            if i == 3:
                raise KeyboardInterrupt
            yield sample

    out = str(tmp_path / 'out')
    with pytest.raises(KeyboardInterrupt):
        write_metro_split(out, 'val', interrupted(samples), 4, progress=False, checkpoint_every=2)
    # a crash in the middle of a row: bytes beyond the checkpoint are cut off on resume
    with open(tmp_path / 'out' / 'val.label.tsv.partial', 'ab') as f:
        f.write(b'k9.jpg\t[{"center": [1')
    path = write_metro_split(out, 'val', samples, 4, progress=False)
    dataset = MeshTSVDataset(ann_file=path)
    assert [dataset.get_data_info(i)['img_path'] for i in range(4)] == ['k0.jpg', 'k1.jpg', 'k2.jpg', 'k3.jpg']
    with pytest.raises(KeyboardInterrupt):
        write_metro_split(out, 'again', interrupted(samples), 4, progress=False, checkpoint_every=1)
    renamed = [MetroSample('other.jpg', s.image_path, s.annotation) for s in samples]
    with pytest.raises(RuntimeError, match='another source'):
        write_metro_split(out, 'again', renamed, 4, progress=False)
    assert len(
        MeshTSVDataset(ann_file=write_metro_split(out, 'again', renamed, 4, progress=False, overwrite=True))) == 4
