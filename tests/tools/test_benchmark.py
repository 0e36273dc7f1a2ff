"""tools/analysis_tools/benchmark.py --speedup runs end to end and prints ratios against the official-style port."""
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tools.analysis_tools.benchmark import format_speedup_row  # noqa: E402


def test_speedup_row_ratio_and_memory():
    row = dict(mode='training step', batch=4, threads=1, ours=2.0, official=3.0, ours_mib=100., official_mib=250.)
    text = format_speedup_row(row)
    assert 'x1.50' in text and '100 / 250' in text and ' 2.00 ' in text  # ratio, memory, images/s


def test_speedup_mode_on_the_light_model():
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT))
    script = REPO_ROOT / 'tools' / 'analysis_tools' / 'benchmark.py'
    args = [
        '--light', '--speedup', '--iters', '1', '--warmup', '0', '--infer-batches', '1', '--infer-threads', '1',
        '--train-batches', '1'
    ]
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r'^inference +1 +1 +[\d.]+ +[\d.]+ +x[\d.]+ ', proc.stdout, re.M), proc.stdout
    assert re.search(r'^training step +1 +1 +[\d.]+ +[\d.]+ +x[\d.]+ +[\d.]+ +-?\d+ / -?\d+$', proc.stdout, re.M), \
        proc.stdout
    difference = float(
        re.search(r'max \|vertices\(pointhmr\) - vertices\(official-style\)\| = (\S+) m', proc.stdout).group(1))
    assert difference < 1e-5
