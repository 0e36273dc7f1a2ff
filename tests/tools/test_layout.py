"""tools/ follows mmpose's layout, and every tool path the docs, configs and code mention exists."""
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL_PATH = re.compile(r'\btools/[\w./-]+?\.(?:py|sh)\b')


def mentioned_tool_paths():
    sources = [REPO_ROOT / 'README.md', *sorted((REPO_ROOT / 'docs').rglob('*.md'))]
    sources += sorted((REPO_ROOT / 'configs').rglob('*.md'))
    for folder in ('pointhmr', 'tools', 'configs', 'demo', 'tests'):
        sources += sorted((REPO_ROOT / folder).rglob('*.py')) + sorted((REPO_ROOT / folder).rglob('*.sh'))
    for source in sources:
        for match in TOOL_PATH.finditer(source.read_text(encoding='utf-8')):
            yield source.relative_to(REPO_ROOT), match.group(0)


def test_every_mentioned_tool_exists():
    mentions = list(mentioned_tool_paths())
    assert len(mentions) > 20  # README commands, config headers, error messages, tool docstrings
    missing = sorted({f'{source}: {path}' for source, path in mentions if not (REPO_ROOT / path).is_file()})
    assert not missing, 'stale tool paths:\n' + '\n'.join(missing)


def test_mmpose_tool_folders():
    tools = REPO_ROOT / 'tools'
    assert (tools / 'analysis_tools' / 'benchmark.py').is_file()
    converters = {p.name for p in (tools / 'model_converters').glob('*.py')}
    assert converters >= {'convert_official_ckpt.py', 'convert_smpl_assets.py'}
    assert (tools / 'dataset_converters' / 'make_synthetic_dataset.py').is_file()
    # only entry points and launchers stay at the top level
    top = {p.name for p in tools.iterdir() if p.is_file()}
    assert top <= {
        'train.py', 'test.py', 'quickstart.py', 'install.sh', 'dist_train.sh', 'dist_test.sh', 'slurm_train.sh',
        'slurm_test.sh', 'torchrun.sh'
    }, top
