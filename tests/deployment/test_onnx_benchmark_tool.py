"""tools/analysis_tools/onnx_benchmark.py runs both backends and prints ratios (speed itself is not asserted)."""
import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmark_prints_ratios_and_agreement(light_config_file, light_checkpoint, capsys):
    spec = importlib.util.spec_from_file_location('onnx_benchmark_tool',
                                                  REPO / 'tools' / 'analysis_tools' / 'onnx_benchmark.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([
        '--config',
        str(light_config_file), '--checkpoint',
        str(light_checkpoint), '--batch-sizes', '1', '2', '--iters', '1', '--warmup', '0'
    ]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if re.match(r'\| [12] \|', line)]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert re.fullmatch(r'\d+\.\d\dx', cells[3]) and re.fullmatch(r'\d+\.\d\dx', cells[4])
        assert float(cells[5].split()[0]) <= 1e-4  # max vertex difference, metres
