"""The flat API: every name a notebook imports with ``from helpers import ...``, each listed once, beside its home.

This file is the registry: ``helpers/__init__.py`` hands it to ``lazy_loader.attach_stub``, which loads a name's
module on first use, and editors and type checkers read the real signatures through it. Exercise checks
(``check_<name>``) are found in :mod:`helpers.teaching.exercises` as well, so a new exercise module needs no line
here; those below are listed for editors. A name a notebook stops using leaves this list.
"""

__version__: str

from .maths.losses import label_smoothing_loss as label_smoothing_loss, distillation_loss as distillation_loss
from .maths.metrics import (
    entropy as entropy, max_probability as max_probability, accuracy as accuracy,
    expected_calibration_error as expected_calibration_error, summarize as summarize,
)
from .maths.calibration import scale_logits as scale_logits, temperature_scaling_report as temperature_scaling_report
from .maths.statistics import (
    NEGLIGIBLE_ENTROPY as NEGLIGIBLE_ENTROPY, mean_ci as mean_ci, paired_differences as paired_differences,
    direction as direction, difference_summary as difference_summary, negligible_band as negligible_band,
)
from .maths.theory import (
    softmax_with_temperature as softmax_with_temperature, temperature_table as temperature_table,
    smoothed_target as smoothed_target, ls_optimum as ls_optimum, ls_loss_decomposition as ls_loss_decomposition,
    numerical_optimum as numerical_optimum, kd_soft_targets as kd_soft_targets, kd_mixed_target as kd_mixed_target,
    kd_optimum as kd_optimum, soft_gradient as soft_gradient, tau_squared_table as tau_squared_table,
    uniform_teacher_identity as uniform_teacher_identity,
    teacher_logits_with_confidence as teacher_logits_with_confidence, compare_targets as compare_targets,
    entropy_vs_teacher_confidence as entropy_vs_teacher_confidence,
)
from .maths.toy_training import (
    gradient_descent_demo as gradient_descent_demo, finite_training_demo as finite_training_demo,
    finite_training_summary as finite_training_summary,
)
from .learning.models import load_tokenizer as load_tokenizer
from .learning.results import (
    record_results as record_results, MAIN_RECORD as MAIN_RECORD, INHERITANCE_RECORD as INHERITANCE_RECORD,
    FINETUNE_INHERITANCE_RECORD as FINETUNE_INHERITANCE_RECORD, EXPECTATIONS_RECORD as EXPECTATIONS_RECORD,
    results_frame as results_frame, read_results as read_results,
)
from .learning.features import run_head as run_head
from .learning.hf_trainer import DistillationTrainer as DistillationTrainer
from .learning.shipped import load_shipped as load_shipped
from .reporting.verdicts import tier_name as tier_name, verdict_table as verdict_table, main_table as main_table
from .reporting.findings import (
    negligible_text as negligible_text, hypotheses_text as hypotheses_text, statistics_primer as statistics_primer,
    verdict_markdown as verdict_markdown, claim_a_markdown as claim_a_markdown,
    expectation_markdown as expectation_markdown, inheritance_check as inheritance_check,
    inheritance_check_markdown as inheritance_check_markdown, transfer_markdown as transfer_markdown,
    findings_markdown as findings_markdown, shipped_summary as shipped_summary,
)
from .reporting.inheritance import (
    inheritance_fit as inheritance_fit, inheritance_text as inheritance_text, knob_text as knob_text,
)
from .reporting.experiment_texts import (
    sweep_text as sweep_text, band_text as band_text, tightness_text as tightness_text,
    teacher_quality_text as teacher_quality_text, virtual_teacher_text as virtual_teacher_text,
)
from .reporting.plotting import (
    set_style as set_style, set_title as set_title, entropy_distribution as entropy_distribution,
    reliability_diagram as reliability_diagram, metric_bars as metric_bars,
    plot_gradient_descent_demo as plot_gradient_descent_demo,
    plot_entropy_vs_teacher_confidence as plot_entropy_vs_teacher_confidence,
    plot_finite_training_demo as plot_finite_training_demo, plot_before_after as plot_before_after,
)
from .reporting.result_plots import (
    entropies_by_label as entropies_by_label, entropy_density_plot as entropy_density_plot,
    length_histogram as length_histogram, difference_plot as difference_plot, inheritance_plot as inheritance_plot,
    sweep_plot as sweep_plot, projection_plot as projection_plot,
)
from .reporting.overview import (
    task_table as task_table, class_table as class_table, token_lengths as token_lengths,
    length_table as length_table, examples as examples, model_table as model_table, class_text as class_text,
    length_text as length_text, model_text as model_text, teacher_text as teacher_text,
    training_plan as training_plan, training_plan_text as training_plan_text,
)
from .experiments.presets import PRESETS as PRESETS, get_preset as get_preset
from .experiments.grid import (
    preset_comparison as preset_comparison, teacher_configs as teacher_configs, teacher_ladder as teacher_ladder,
    rung_label as rung_label, main_grid as main_grid, describe_run as describe_run,
    feature_teacher as feature_teacher, feature_teachers as feature_teachers, feature_grid as feature_grid,
)
from .experiments.runner import run_grid as run_grid, feature_data as feature_data, run_feature_grid as run_feature_grid
from .experiments.shares import share_preset as share_preset
from .experiments.handin import hand_in as hand_in
from .experiments.pooled import (
    load_class as load_class, class_summary as class_summary, class_beside as class_beside,
    class_comparison as class_comparison, class_inheritance as class_inheritance,
)
from .experiments.sweeps import (
    alpha_temperature_configs as alpha_temperature_configs, run_sweep as run_sweep, sweep_summary as sweep_summary,
    sweep_table as sweep_table, teacher_confidence_teachers as teacher_confidence_teachers,
    inheritance_frame as inheritance_frame, inheritance_points as inheritance_points,
    kd_teacher_table as kd_teacher_table, kd_expectations as kd_expectations,
    kd_agreement_summary as kd_agreement_summary, teacher_frame as teacher_frame,
    finetune_inheritance_frame as finetune_inheritance_frame,
)
from .experiments.representations import (
    head_projection as head_projection, smoothed_teacher_grid as smoothed_teacher_grid,
    virtual_teacher_grid as virtual_teacher_grid,
)
from .experiments.paper_scale.demo import demo_workspace as demo_workspace
from .experiments.paper_scale.cli import run_paper_scale as run_paper_scale
from .teaching.widgets import (
    temperature_app as temperature_app, label_smoothing_app as label_smoothing_app,
    distillation_app as distillation_app, calibration_app as calibration_app,
)
from .teaching.explorer import GridExplorer as GridExplorer, LiveExplorer as LiveExplorer
from .teaching.exercises import (
    show_solution as show_solution, check_softmax_with_temperature as check_softmax_with_temperature,
    check_entropy as check_entropy, check_label_smoothing_loss as check_label_smoothing_loss,
    check_distillation_loss as check_distillation_loss,
    check_expected_calibration_error as check_expected_calibration_error,
    check_temperature_scaling as check_temperature_scaling, check_kd_training_step as check_kd_training_step,
    check_paired_interval as check_paired_interval, check_kd_direction_prediction as check_kd_direction_prediction,
)
from .pipeline.environment import environment_report as environment_report, format_report as format_report
