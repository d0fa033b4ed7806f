"""The README's generated blocks (default rules, benchmark table) match their sources."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _updater():
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "scripts/update_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_generated_blocks_are_current():
    updater = _updater()
    readme = (ROOT / "README.md").read_text()
    assert updater.render(readme) == readme, "run scripts/update_readme.py"


def test_readme_shows_default_rules_and_both_commands():
    readme = (ROOT / "README.md").read_text()
    assert "`r_exact`" in readme
    assert "`no_accept_not_in_books`" in readme
    assert "make demo" in readme
    assert "make test" in readme
