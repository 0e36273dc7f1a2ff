"""tools/analysis_tools/fit_benchmark.py runs and reports a sub-millimetre fit of body-model meshes."""
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_fit_benchmark_reports_errors_and_reference_timing():
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT))
    script = REPO_ROOT / 'tools' / 'analysis_tools' / 'fit_benchmark.py'
    args = ['--num-people', '2', '--batch-size', '2', '--repeats', '1']
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    mean_error = float(re.search(r'vertex error \(mm, vs noise-free mesh\): mean ([\d.]+)', proc.stdout).group(1))
    assert mean_error < 2.0
    assert re.search(r'joint-angle error \(deg\): mean over all 24 joints [\d.]+', proc.stdout)
    assert re.search(r'time per person: [\d.]+ ms .* reference .* ratio: [\d.]+ forward passes', proc.stdout)
