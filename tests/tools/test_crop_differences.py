"""tools/analysis_tools/crop_differences.py prints the measured exact-vs-official crop differences."""
import importlib.util
import re
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' / 'crop_differences.py'


def test_prints_corner_offsets_grey_levels_and_label_quirk(capsys):
    spec = importlib.util.spec_from_file_location('crop_differences', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(['--boxes', '6', '--seed', '1']) == 0
    out = capsys.readouterr().out
    offsets = re.search(r'in image px ([-+]\d+\.\d+) \.\. ([-+]\d+\.\d+)', out)
    assert offsets and -1.0 <= float(offsets.group(1)) <= float(offsets.group(2)) <= 1.0  # truncation: < 1 px
    assert re.search(r'grey levels exact vs official, (no rotation|rotated): max \d+', out)
    quirk = re.search(r'mean ([-+]\d+\.\d+) px per coordinate', out)
    assert quirk and abs(float(quirk.group(1)) - 0.5) < 0.01
