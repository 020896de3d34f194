"""A cache key sees the code: any change to the modules that compute a run is a new key; comments are not."""

import pytest

from helpers.learning import cache
from helpers.learning import frozen_features
from helpers.learning.finetune import TrainConfig

TINY = dict(task="trec", student="L1", train_subset=96, eval_subset=48, max_length=24, batch_size=16, epochs=1)


def _patched_sources(monkeypatch, module: str, edit):
    """Make ``cache`` read an edited copy of ``module``'s source text."""
    original = cache._module_source

    def source(name: str) -> str:
        text = original(name)
        return edit(text) if name == module else text

    monkeypatch.setattr(cache, "_module_source", source)


def test_the_fingerprint_ignores_comments_docstrings_and_layout_but_not_code():
    code = 'import torch\n\ndef clip(model):\n    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n'
    commented = ('"""A module docstring."""\nimport torch\n\n\ndef clip(model):  # a comment\n'
                 '    """A function docstring."""\n    torch.nn.utils.clip_grad_norm_(\n        model.parameters(), 1.0)\n')
    assert cache.source_fingerprint(code) == cache.source_fingerprint(commented)
    assert cache.source_fingerprint(code) != cache.source_fingerprint(code.replace("1.0", "0.05"))


def test_the_run_key_changes_when_the_training_code_changes(monkeypatch):
    config = TrainConfig(**TINY)
    before = config.key()
    _patched_sources(monkeypatch, "helpers.learning.finetune", lambda text: text + "\n# a new comment\n")
    assert config.key() == before, "a comment is not a code change"
    _patched_sources(monkeypatch, "helpers.learning.finetune",
                     lambda text: text.replace("clip_grad_norm_(model.parameters(), 1.0)",
                                               "clip_grad_norm_(model.parameters(), 0.05)"))
    assert config.key() != before


@pytest.mark.parametrize("module", cache.FINETUNE_MODULES)
def test_every_module_that_computes_a_run_is_in_its_key(monkeypatch, module):
    config = TrainConfig(**TINY)
    before = config.key()
    _patched_sources(monkeypatch, module, lambda text: text + "\n_EDITED = True\n")
    assert config.key() != before


@pytest.mark.parametrize("module", cache.FEATURE_MODULES)
def test_the_feature_key_sees_the_feature_tiers_code(monkeypatch, module):
    def key():
        return frozen_features._feature_key("trec", 32, 64, 32, "fp32")

    before = key()
    _patched_sources(monkeypatch, module, lambda text: text + "\n_EDITED = True\n")
    assert key() != before


def test_the_module_lists_name_the_modules_that_determine_a_result():
    common = ("maths.losses", "learning.models", "learning.data", "infrastructure.precision")
    assert set(cache.FINETUNE_MODULES) == {f"helpers.{m}" for m in (*common, "learning.finetune")}
    assert set(cache.FEATURE_MODULES) == {f"helpers.{m}" for m in (*common, "learning.frozen_features", "learning.features")}
    with pytest.raises(ValueError, match="no_such_module"):
        cache.code_fingerprint("helpers.no_such_module")


def test_the_computed_folder_is_never_a_file_nor_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KDLS_COMPUTED_DIR", "")
    assert cache.computed_dir() != type(tmp_path)(".") and cache.computed_dir().is_absolute()
    (tmp_path / "a_file").write_text("x")
    for value in ("a_file", "a_file/sub"):
        monkeypatch.setenv("KDLS_COMPUTED_DIR", str(tmp_path / value))
        with pytest.raises(ValueError, match="a_file is a file"):
            cache.computed_dir()
    monkeypatch.setenv("KDLS_COMPUTED_DIR", str(tmp_path / "new"))
    assert cache.runs_dir() == tmp_path / "new" / "runs"


def test_a_module_is_read_once_per_process_so_a_long_run_keeps_its_keys(tmp_path, monkeypatch):
    (tmp_path / "kdls_probe_module.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cache._module_source.cache_clear()
    before = cache.code_fingerprint("kdls_probe_module")
    (tmp_path / "kdls_probe_module.py").write_text("VALUE = 2\n")  # edited while this process runs
    assert cache.code_fingerprint("kdls_probe_module") == before
    cache._module_source.cache_clear()  # a new process reads the edit
    assert cache.code_fingerprint("kdls_probe_module") != before
