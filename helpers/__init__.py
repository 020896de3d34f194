"""Helpers of the KD-vs-LS teaching kit.

**In a notebook**, import what you need from the package itself -- no folder to learn::

    from helpers import entropy, distillation_loss, get_preset, run_grid, temperature_app

Every name of :data:`API` is importable this way (loaded on first use); ``dir(helpers)`` lists them.

**Architecture map.** Seven layers, from the top; a module imports only from its own layer and those below
(checked by import-linter: ``[tool.importlinter]`` in pyproject.toml, run by tests/test_architecture.py).
Each folder's ``__init__`` lists its modules.

========================  ====================================================================================
``pipeline/``             whole-kit runs and what ships: ``reproduce``, ``notebooks``, ``shipped`` (+ results),
                          ``environment``, ``grade``, ``assignment``, ``live_charts``, ``slides``, ``commands/``
``teaching/``             the teaching UI: ``widgets`` (sliders), ``explorer``, ``exercises`` (checks).
                          Never imports the pipeline.
``experiments/``          ``presets``, ``grid``, ``runner``, ``cli`` (``python -m helpers.experiments``), ``sweeps``,
                          ``representations``, ``paper_scale/`` (GLUE on GPUs, ``python -m helpers.paper_scale``)
``reporting/``            ``verdicts`` (tables and sentences), ``plotting`` (style, theory figures),
                          ``result_plots`` (experiment figures), ``overview`` (data and model tables)
``learning/``             ``data``, ``models``, ``cache`` (keyed by config, task, pins and code), ``results``
                          (results.csv, notebook records), ``finetune`` (the fine-tuned tier), ``features``
                          (the frozen-feature tier), ``hf_trainer`` (the Hugging Face Trainer subclass)
``infrastructure/``       ``settings`` (every environment variable, read once), ``assets`` (pinned wheels),
                          ``precision``, ``flops``, ``progress``
``maths/``                ``losses``, ``metrics``, ``calibration``, ``statistics``, ``hypotheses``, ``theory``
                          (closed forms), ``toy_training`` (the demo simulations)
========================  ====================================================================================

**Commands** keep their short names: ``python -m helpers.experiments`` (a package with ``__main__``), and
``python -m helpers.paper_scale``, ``helpers.shipped``, ``helpers.grade``, ``helpers.notebooks``,
``helpers.assets``, whose entry files live in ``pipeline/commands/``: that folder is added to this package's
search path below, so each is found as ``helpers.<name>`` and forwards to its module's ``main``.

Importing the package makes the Hugging Face libraries offline (``HF_HUB_OFFLINE=1``,
``HF_DATASETS_OFFLINE=1``; only where unset) so that nothing ever waits on an unreachable hub: these two
must be set before those libraries are imported, which is why this happens here and nowhere else. Set
``KDLS_ALLOW_HUB=1`` before importing to allow hub downloads.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

if os.environ.get("KDLS_ALLOW_HUB", "0") != "1":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"

# the documented `python -m helpers.<command>` names (pipeline/commands/*.py)
__path__.append(str(Path(__file__).resolve().parent / "pipeline" / "commands"))

# The notebooks' API: module (under helpers.) -> the public names it lends to ``from helpers import ...``.
# Each name has one home (tests/test_architecture.py checks these against the modules' ``__all__``).
API: dict[str, tuple[str, ...]] = {
    "maths.losses": ("METHODS", "MAX_TEMPERATURE", "Objective", "validate_objective", "cross_entropy_loss",
        "label_smoothing_loss", "distillation_loss", "soft_target_kl", "validate_alpha", "validate_temperature",
        "MIN_TEMPERATURE", "validate_logits_and_targets",),
    "maths.metrics": ("entropy", "max_probability", "negative_log_likelihood", "accuracy", "reliability_bins",
        "expected_calibration_error", "summarize",),
    "maths.calibration": ("T_MIN", "T_MAX", "scale_logits", "fit_temperature", "temperature_scaling_report",),
    "maths.statistics": ("GROUP_COLUMNS", "METRICS", "NEGLIGIBLE_ENTROPY", "DIRECTIONS", "t_cdf", "t_quantile", "MeanCI",
        "mean_ci", "format_ci", "check_columns", "seed_summary", "paired_differences", "paired_t_pvalue",
        "direction", "RandomEffectsCI", "random_effects_ci", "difference_summary", "holm", "negligible_band",),
    "maths.regression": ("LineFit", "CrossingCI", "fit_line", "leave_one_out_slopes",),
    "maths.hypotheses": ("PAPER_EXPECTATION", "HYPOTHESES_TEXT", "model_size", "kd_setting", "paper_expectation",
        "kd_expectation", "kit_expectation", "judge", "JUDGEMENTS",),
    "maths.theory": ("as_logits", "softmax_with_temperature", "temperature_table", "distribution_entropy", "smoothed_target",
        "LSOptimum", "ls_optimum", "ls_optimal_logits", "ls_entropy_floors", "ls_loss_decomposition",
        "numerical_optimum", "kd_soft_targets", "kd_mixed_target", "kd_optimum", "kd_loss_derivatives",
        "soft_gradient", "logit_matching_gradient", "tau_squared_table", "uniform_teacher_identity",
        "teacher_logits_with_confidence", "TargetComparison", "compare_targets", "entropy_vs_teacher_confidence",),
    "maths.toy_training": ("GradientDescentDemo", "gradient_descent_demo", "FiniteTrainingDemo", "finite_training_demo",
        "finite_training_summary",),
    "learning.data": ("TASKS", "SPLITS", "SPLIT_SEED", "load_task", "task_name", "task_fingerprint", "frame_to_task", "tokenize_task",
        "padding_collator", "take_subset", "used_token_ids",),
    "learning.models": ("PRETRAINED_LAYERS", "HEAD_PREFIXES", "load_tokenizer", "build_model", "check_loading_info",
        "count_parameters", "describe_spec", "TrimmedEmbedding", "trim_vocabulary", "restore_vocabulary",),
    "learning.results": ("record_results", "RECORD_ENV", "MAIN_RECORD", "INHERITANCE_RECORD", "FINETUNE_INHERITANCE_RECORD",
        "EXPECTATIONS_RECORD", "TIERS", "ROLES", "METRIC_COLUMNS", "RESULT_COLUMNS", "IDENTITY_COLUMNS",
        "teacher_label", "run_label", "make_row", "results_frame", "results_file", "results_lock",
        "run_identities", "write_results", "append_results", "read_results",),
    "learning.finetune": ("TrainConfig", "RunRecord", "seed_everything", "prepare_data", "predict_logits", "train", "run",
        "run_with_checkpoints", "store", "teacher_logits",),
    "learning.features": ("FeatureSet", "encode_features", "features_dir", "toy_feature_set", "VirtualTeacher",
        "virtual_teacher_logits", "HeadConfig", "HeadRecord", "build_head", "penultimate", "head_inputs",
        "train_head", "run_head", "clear_head_cache", "head_teacher_logits",),
    "learning.hf_trainer": ("TEACHER_LOGITS_COLUMN", "DistillationTrainer", "compute_metrics", "forward_argument_names",),
    "reporting.verdicts": ("TIER_NAMES", "tier_name", "verdict_table", "claim_a_text", "main_table",),
    "reporting.findings": ("negligible_text", "hypotheses_text", "statistics_primer", "verdict_markdown", "claim_a_markdown",
        "expectation_markdown", "inheritance_check", "inheritance_check_markdown", "transfer_markdown",
        "findings_markdown", "shipped_summary",),
    "reporting.inheritance": ("MIN_TEACHERS_FOR_FIT", "InheritanceFit", "inheritance_fit", "inheritance_text", "knob_text",),
    "reporting.experiment_texts": ("sweep_text", "band_text", "tightness_text", "teacher_quality_text",
        "virtual_teacher_text",),
    "reporting.plotting": ("METHOD_ORDER", "METHOD_COLORS", "METHOD_LABELS", "PALETTE", "MIN_FONT_SIZE", "METRIC_AXIS_LABELS",
        "set_style", "plain_text", "set_title", "metric_axis_label", "method_order", "method_color",
        "method_label", "entropy_distribution", "reflected_density", "reliability_diagram", "metric_bars",
        "plot_gradient_descent_demo", "plot_entropy_vs_teacher_confidence", "plot_finite_training_demo",
        "plot_before_after",),
    "reporting.result_plots": ("METRIC_RANGES", "CURVE_COLORS", "inheritance_title", "entropies_by_run", "entropies_by_label",
        "entropy_density_plot", "length_histogram", "difference_plot", "inheritance_plot", "sweep_plot",
        "projection_plot",),
    "reporting.overview": ("task_table", "class_table", "token_lengths", "length_table", "examples", "model_table", "class_text",
        "length_text", "model_text", "teacher_text", "SECONDS_PER_UNIT", "training_plan", "training_plan_text",),
    "experiments.presets": ("SETTINGS", "FeatureTier", "Preset", "PRESETS", "get_preset",),
    "experiments.grid": ("preset_comparison", "teacher_config", "teacher_configs", "teacher_ladder", "rung_label",
        "main_grid", "describe_run", "feature_teacher", "feature_grid",),
    "experiments.runner": ("run_grid", "feature_data", "run_feature_grid",),
    "experiments.cli": ("verdict_text",),
    "experiments.sweeps": ("alpha_temperature_configs", "run_sweep", "sweep_summary", "sweep_table", "ConfidenceTeacher",
        "teacher_confidence_teachers", "inheritance_frame", "inheritance_points", "kd_teacher_table",
        "kd_expectations", "kd_agreement_summary", "teacher_frame", "finetune_inheritance_frame",),
    "experiments.representations": ("template_plane", "project", "cluster_tightness", "projection_frame", "head_projection",
        "smoothed_teacher_grid", "virtual_teacher_grid",),
    "experiments.paper_scale.demo": ("TinySetup", "DemoWorkspace", "make_tiny_offline_setup", "demo_workspace",),
    "teaching.widgets": ("SliderApp", "temperature_app", "label_smoothing_app", "distillation_app", "calibration_app",),
    "teaching.explorer": ("GridExplorer", "LiveExplorer", "LIVE_TEMPERATURES",),
    "teaching.exercises": ("MISTAKES", "SOLUTIONS", "show_solution", "check_softmax_with_temperature", "check_entropy",
        "check_label_smoothing_loss", "check_distillation_loss", "check_expected_calibration_error",
        "check_temperature_scaling", "check_kd_training_step", "check_paired_interval",
        "check_kd_direction_prediction",),
    "pipeline.shipped": ("SHIPPED_DIR", "Shipped", "load_shipped", "ship",),
    "pipeline.environment": ("PACKAGES", "WIDGET_MANAGER_MAJOR", "Check", "package_versions", "check_packages", "check_assets",
        "find_widget_manager", "check_widgets", "check_compute", "environment_report", "report_frame",
        "format_report",),
}
_HOME = {name: module for module, names in API.items() for name in names}


def __getattr__(name: str):
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"helpers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
