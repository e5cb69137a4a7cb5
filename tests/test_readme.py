"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_api_example_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    block = re.search(r"<!-- example:api -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README lost its API example"
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    first = capsys.readouterr().out.splitlines()
    assert any(line.startswith("completed 300") for line in first)
    assert (tmp_path / "ring.png").stat().st_size > 1000
    assert (tmp_path / "runs/ring-demo/checkpoints/step_00000300/state.json").is_file()
