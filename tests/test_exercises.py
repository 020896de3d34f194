"""The exercises' self-checks: every solution passes, every blank fails politely, every classic mistake is named;
the package finds its exercise modules itself, a wrapper of the kit's own function is refused however it is reached,
and every module still works as the student edition (its instructor blocks removed).

Each mistake is written here, independently of :mod:`helpers.teaching.exercises`, as a "mutant" of the
right answer; its check must return False and print the mistake's name. (The exercise modules' own catalogues of
wrong implementations are run by tests/test_mutation.py.)
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.teaching import exercises
from helpers.teaching.exercises import MISTAKES, SOLUTIONS, check_kd_direction_prediction, check_paired_interval
from helpers.teaching.exercises import checking
from helpers.teaching.exercises.checking import strip_instructor
from helpers.maths.losses import distillation_loss
from helpers.maths.metrics import expected_calibration_error

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def _run(check, fn, capsys, *args):
    result = check(fn, *args)
    return result, capsys.readouterr().out


# ----------------------------------------------------------------------------- solutions and blanks


@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_every_solution_passes_its_check(name, capsys):
    solution, check = SOLUTIONS[name]
    result, out = _run(check, solution, capsys)
    assert result is True, out
    assert out.startswith("✅") and "❌" not in out


def _blank_none(*args):
    ...  # your code here


def _blank_ellipsis(*args):
    return ...


def _raises(*args):
    raise RuntimeError("half-written code")


@pytest.mark.parametrize("name", list(SOLUTIONS))
@pytest.mark.parametrize("blank", [_blank_none, _blank_ellipsis])
def test_a_blank_fails_with_not_implemented_and_no_exception(name, blank, capsys):
    _, check = SOLUTIONS[name]
    result, out = _run(check, blank, capsys)
    assert result is False
    assert "not implemented yet" in out


@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_an_exception_in_the_students_function_is_reported(name, capsys):
    _, check = SOLUTIONS[name]
    result, out = _run(check, _raises, capsys)
    assert result is False
    assert "RuntimeError" in out and "half-written code" in out and "case '" in out


def test_show_solution_prints_the_source(capsys):
    exercises.show_solution("entropy")
    assert "def entropy_in_nats(probs):" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.show_solution("nope")


def _assert_named(check, fn, mistake_key, check_name, capsys, *args):
    result, out = _run(check, fn, capsys, *args)
    assert result is False, out
    assert MISTAKES[check_name][mistake_key] in out, out
    assert "❌" in out


# ----------------------------------------------------------------------------- 01: softmax


def _sm_multiplied(z, t):
    return torch.softmax(z * t, dim=-1)


def _sm_ignored(z, t):
    return torch.softmax(z, dim=-1)


def _sm_dim0(z, t):
    return torch.softmax(z / t, dim=0)


def _sm_naive(z, t):
    e = torch.exp(z / t)
    return e / e.sum(-1, keepdim=True)


def _sm_unnormalised(z, t):
    return torch.exp(z / t - (z / t).max(-1, keepdim=True).values)


@pytest.mark.parametrize("mutant, key", [(_sm_multiplied, "multiplied"), (_sm_ignored, "ignored"),
                                         (_sm_dim0, "axis"), (_sm_naive, "overflow"),
                                         (_sm_unnormalised, "unnormalised")])
def test_softmax_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_softmax_with_temperature, mutant, key, "softmax_with_temperature", capsys)


def test_softmax_numpy_answer_is_accepted(capsys):
    def numpy_softmax(z, t):
        a = np.asarray(z) / t
        e = np.exp(a - a.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    assert _run(exercises.check_softmax_with_temperature, numpy_softmax, capsys)[0] is True


# ----------------------------------------------------------------------------- 01: entropy


def _h_log2(p):
    return -(p * torch.log2(p.clamp_min(1e-12))).sum(-1)


def _h_axis(p):
    return -(p * torch.log(p.clamp_min(1e-12))).sum(0)


def _h_nan(p):
    return -(p * torch.log(p)).sum(-1)


def _h_mean(p):
    return -(p * torch.log(p.clamp_min(1e-12))).sum(-1).mean()


def _h_sign(p):
    return (p * torch.log(p.clamp_min(1e-12))).sum(-1)


@pytest.mark.parametrize("mutant, key", [(_h_log2, "log2"), (_h_axis, "axis"), (_h_nan, "nan"), (_h_mean, "mean"),
                                         (_h_sign, "sign")])
def test_entropy_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_entropy, mutant, key, "entropy", capsys)


def test_entropy_message_shows_expected_and_got(capsys):
    _, out = _run(exercises.check_entropy, _h_log2, capsys)
    assert "expected [" in out and "got [" in out and "case '" in out


# ----------------------------------------------------------------------------- 02: label smoothing


def _ls_swapped(z, y, a):
    log_p = F.log_softmax(z, -1)
    return (a * F.nll_loss(log_p, y) + (1 - a) * -log_p.mean(-1).mean())


def _ls_k_minus_1(z, y, a):
    k = z.shape[-1]
    q = torch.full_like(z, a / (k - 1))
    q[torch.arange(len(y)), y] = 1 - a
    return -(q * F.log_softmax(z, -1)).sum(-1).mean()


def _ls_sum(z, y, a):
    log_p = F.log_softmax(z, -1)
    return ((1 - a) * -log_p[torch.arange(len(y)), y] + a * -log_p.mean(-1)).sum()


def _ls_per_example(z, y, a):
    log_p = F.log_softmax(z, -1)
    return (1 - a) * -log_p[torch.arange(len(y)), y] + a * -log_p.mean(-1)


def _ls_no_hard_weight(z, y, a):
    log_p = F.log_softmax(z, -1)
    return (-log_p[torch.arange(len(y)), y] + a * -log_p.mean(-1)).mean()


def _ls_log2(z, y, a):
    log_p = F.log_softmax(z, -1) / math.log(2)
    return ((1 - a) * -log_p[torch.arange(len(y)), y] + a * -log_p.mean(-1)).mean()


@pytest.mark.parametrize("mutant, key", [(_ls_swapped, "alpha_swapped"), (_ls_k_minus_1, "k_minus_1"),
                                         (_ls_sum, "sum"), (_ls_per_example, "per_example"),
                                         (_ls_no_hard_weight, "no_hard_weight"), (_ls_log2, "log2")])
def test_label_smoothing_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_label_smoothing_loss, mutant, key, "label_smoothing_loss", capsys)


def test_label_smoothing_k_minus_1_message_states_the_convention(capsys):
    _, out = _run(exercises.check_label_smoothing_loss, _ls_k_minus_1, capsys)
    assert "label_smoothing" in out and "ALL K classes" in out


def test_pytorch_label_smoothing_is_accepted(capsys):
    fn = lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a)  # noqa: E731
    assert _run(exercises.check_label_smoothing_loss, fn, capsys)[0] is True


# ----------------------------------------------------------------------------- 03: distillation


def _kd(s, t, y, a, tau, *, alpha_on_hard=False, tau2=True, tau2_hard=False, reverse=False, reduction="batchmean",
        soften_student=True, soften_teacher=True, hard_tau=False, detach=True, log_base=math.e, total="mean"):
    t_used = t.detach() if detach else t
    log_s = F.log_softmax(s / (tau if soften_student else 1.0), -1)
    log_t = F.log_softmax(t_used / (tau if soften_teacher else 1.0), -1)
    if reverse:
        kl = F.kl_div(log_t, log_s, reduction=reduction, log_target=True)
    else:
        kl = F.kl_div(log_s, log_t, reduction=reduction, log_target=True)
    hard = F.cross_entropy(s / tau if hard_tau else s, y)
    w_hard, w_soft = (a, 1 - a) if alpha_on_hard else (1 - a, a)
    loss = w_hard * hard * (tau**2 if tau2_hard else 1.0) + w_soft * kl * (tau**2 if tau2 else 1.0)
    loss = loss / math.log(log_base)
    return loss * s.shape[0] if total == "sum" else loss


KD_MUTANTS = [
    (lambda *a: _kd(*a, alpha_on_hard=True), "alpha_swapped"),
    (lambda *a: _kd(*a, tau2=False), "no_tau2"),
    (lambda *a: _kd(*a, tau2_hard=True), "tau2_hard"),
    (lambda *a: _kd(*a, tau2_hard=True, tau2=False), "tau2_hard"),
    (lambda *a: _kd(*a, reverse=True), "kl_reversed"),
    (lambda *a: _kd(*a, reduction="mean"), "mean"),
    (lambda *a: _kd(*a, soften_student=False), "student_not_softened"),
    (lambda *a: _kd(*a, soften_teacher=False), "teacher_not_softened"),
    (lambda *a: _kd(*a, hard_tau=True), "hard_softened"),
    (lambda *a: _kd(*a, total="sum"), "sum"),
    (lambda *a: _kd(*a, log_base=2.0), "log2"),
    (lambda *a: _kd(*a, detach=False), "teacher_grad"),
    (lambda *a: _kd(*a).item(), "not_tensor"),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # the 'mean' mutant, on purpose
@pytest.mark.parametrize("mutant, key", KD_MUTANTS, ids=[k for _, k in KD_MUTANTS])
def test_distillation_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_distillation_loss, mutant, key, "distillation_loss", capsys)


def test_the_kits_distillation_loss_is_refused_as_a_wrapper(capsys):
    _assert_named(exercises.check_distillation_loss, distillation_loss, "kit_wrapper", "distillation_loss", capsys)


def test_kd_mutant_without_detach_agrees_on_values():
    """The teacher-gradient mutant differs only in its gradient: the check must find it by backward, not by value."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    y = torch.tensor([0, 1, 2])
    assert torch.allclose(_kd(s, t, y, 0.3, 2.0, detach=False), distillation_loss(s, t, y, 0.3, 2.0))


# ----------------------------------------------------------------------------- 04: ECE


def _independent_ece(probs, targets, n_bins):
    """numpy, np.digitize on right-closed edges: an implementation that shares no code with the kit."""
    probs, targets = np.asarray(probs, dtype=float), np.asarray(targets)
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs((pred[m] == targets[m]).mean() - conf[m].mean())
    return ece


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 20), st.integers(2, 6), st.integers(5, 200))
def test_ece_solution_and_kit_metric_match_an_independent_implementation(seed, n_bins, k, n):
    g = torch.Generator().manual_seed(seed)
    logits = 3.0 * torch.randn(n, k, generator=g, dtype=torch.float64)
    probs = torch.softmax(logits, -1)
    targets = torch.randint(0, k, (n,), generator=g)
    reference = _independent_ece(probs.numpy(), targets.numpy(), n_bins)
    solution, _ = SOLUTIONS["expected_calibration_error"]
    assert solution(probs, targets, n_bins) == pytest.approx(reference, abs=1e-9)
    # the kit's metric works in float32: an example within float32 rounding of a bin edge may change bins
    conf = probs.max(-1).values
    edges = torch.arange(1, n_bins, dtype=torch.float64) / n_bins
    if n_bins == 1 or (conf[:, None] - edges[None, :]).abs().min() > 1e-6:
        assert expected_calibration_error(logits, targets, n_bins) == pytest.approx(reference, abs=1e-5)


def _ece_bins(probs, targets, n_bins, conf=None):
    conf = probs.max(-1).values if conf is None else conf
    correct = (probs.argmax(-1) == targets).double()
    idx = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    return [(idx == b, correct, conf) for b in range(n_bins) if (idx == b).any()]


def _ece_equal(probs, targets, n_bins):
    bins = _ece_bins(probs, targets, n_bins)
    return sum(abs(c[m].mean() - f[m].mean()).item() for m, c, f in bins) / len(bins)


def _ece_true_class(probs, targets, n_bins):
    p_true = probs[torch.arange(len(targets)), targets]
    return sum((m.double().mean() * (c[m].mean() - f[m].mean()).abs()).item()
               for m, c, f in _ece_bins(probs, targets, n_bins, conf=p_true))


def _ece_accuracy_is_probability(probs, targets, n_bins):
    p_true = probs[torch.arange(len(targets)), targets]
    return sum((m.double().mean() * (p_true[m].mean() - f[m].mean()).abs()).item()
               for m, c, f in _ece_bins(probs, targets, n_bins))


def _ece_signed(probs, targets, n_bins):
    return sum((m.double().mean() * (c[m].mean() - f[m].mean())).item() for m, c, f in _ece_bins(probs, targets, n_bins))


def _ece_no_bins(probs, targets, n_bins):
    return abs((probs.argmax(-1) == targets).double().mean() - probs.max(-1).values.mean()).item()


@pytest.mark.parametrize("mutant, key", [(_ece_equal, "equal_weights"), (_ece_true_class, "true_class_prob"),
                                         (_ece_accuracy_is_probability, "accuracy_mixup"), (_ece_signed, "signed"),
                                         (_ece_no_bins, "no_bins")])
def test_ece_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_expected_calibration_error, mutant, key, "expected_calibration_error", capsys)


# ----------------------------------------------------------------------------- 04: temperature scaling


def _fit(logits, targets, objective="nll", grid=np.geomspace(0.05, 20.0, 2000)):
    z, y = torch.as_tensor(logits).double(), torch.as_tensor(targets)
    if objective == "nll":
        scores = [F.cross_entropy(z / t, y).item() for t in grid]
    else:  # accuracy, to maximise: the first grid point wins every tie
        scores = [-(z / t).argmax(-1).eq(y).double().mean().item() for t in grid]
    return float(grid[int(np.argmin(scores))])


def _test_split():
    g = torch.Generator().manual_seed(99)
    z = 4.0 * torch.randn(300, 5, generator=g)
    y = z.argmax(-1)
    y[:30] = torch.randint(0, 5, (30,), generator=g)
    return z, y


def test_temperature_fitted_on_the_test_split_is_named(capsys):
    test_logits, test_targets = _test_split()

    def uses_global(val_logits, val_targets):
        return _fit(test_logits, test_targets)  # reads "the notebook's" test split

    _assert_named(exercises.check_temperature_scaling, uses_global, "test_split", "temperature_scaling", capsys,
                  test_logits, test_targets)


def test_temperature_that_ignores_its_data_is_named_without_the_test_split(capsys):
    test_logits, test_targets = _test_split()
    _assert_named(exercises.check_temperature_scaling, lambda z, y: _fit(test_logits, test_targets), "ignores_data",
                  "temperature_scaling", capsys)


@pytest.mark.parametrize("mutant, key", [
    (lambda z, y: 1.0 / _fit(z, y), "inverse"),
    (lambda z, y: _fit(z, y, objective="accuracy"), "accuracy"),
    (lambda z, y: math.log(_fit(z, y)), "log_t"),
])
def test_temperature_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_temperature_scaling, mutant, key, "temperature_scaling", capsys)


def test_grid_search_solution_is_accepted(capsys):
    assert _run(exercises.check_temperature_scaling, lambda z, y: _fit(z, y, grid=np.geomspace(0.01, 100.0, 1200)),
                capsys)[0] is True


# ----------------------------------------------------------------------------- 06: one KD training step


def _step(head, optimizer, features, teacher_logits, targets, alpha, temperature, *, train=True, zero=True,
          step=True, detach=True, loss_fn=None, report_after=False):
    if train:
        head.train()
    if zero:
        optimizer.zero_grad()
    t = teacher_logits.detach() if detach else teacher_logits
    loss_fn = loss_fn or (lambda s: _kd(s, t, targets, alpha, temperature, detach=detach))
    loss = loss_fn(head(features))
    loss.backward()
    if step:
        optimizer.step()
    if report_after:
        with torch.no_grad():
            return _kd(head(features), t, targets, alpha, temperature).item()
    return loss.item()


STEP_MUTANTS = [
    (lambda *a: _step(*a, train=False), "eval_mode"),
    (lambda *a: _step(*a, zero=False), "zero_grad"),
    (lambda *a: _step(*a, step=False), "no_step"),
    (lambda *a: _step(*a, detach=False), "teacher"),
    (lambda h, o, f, t, y, a, tau: _step(h, o, f, t, y, a, tau, loss_fn=lambda s: F.cross_entropy(s, y)), "loss"),
    (lambda h, o, f, t, y, a, tau: _step(h, o, f, t, y, a, tau,
                                         loss_fn=lambda s: _kd(s, t, y, 1 - a, tau)), "loss"),
    (lambda *a: _step(*a, report_after=True), "loss_after_step"),
]


@pytest.mark.parametrize("mutant, key", STEP_MUTANTS, ids=[k for _, k in STEP_MUTANTS])
def test_kd_training_step_mistakes_are_named(mutant, key, capsys):
    _assert_named(exercises.check_kd_training_step, mutant, key, "kd_training_step", capsys)


def test_kd_training_step_check_leaves_the_global_random_state_alone(capsys):
    torch.manual_seed(2024)
    expected = torch.rand(3)
    torch.manual_seed(2024)
    exercises.check_kd_training_step(SOLUTIONS["kd_training_step"][0])
    capsys.readouterr()
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------------------- 06: paired interval, 07: prediction


def _paired_mutant(quantile=None, ddof=1, root=True, sign=1.0, unpaired=False):
    from scipy import stats

    def mutant(method_values, erm_values):
        m, e = np.asarray(method_values, float), np.asarray(erm_values, float)
        if unpaired:
            se = np.sqrt(m.var(ddof=1) / m.size + e.var(ddof=1) / e.size)
            half = stats.t.ppf(0.975, m.size - 1) * se
            return m.mean() - e.mean(), m.mean() - e.mean() - half, m.mean() - e.mean() + half
        d = sign * (m - e)
        q = stats.t.ppf(0.975, d.size - 1) if quantile is None else quantile(d.size)
        half = q * d.std(ddof=ddof) / (np.sqrt(d.size) if root else d.size)
        return d.mean(), d.mean() - half, d.mean() + half
    return mutant


@pytest.mark.parametrize("mutant, key", [
    (_paired_mutant(unpaired=True), "unpaired"), (_paired_mutant(quantile=lambda n: 1.96), "normal"),
    (_paired_mutant(quantile=lambda n: __import__("scipy").stats.t.ppf(0.95, n - 1)), "one_sided"),
    (_paired_mutant(ddof=0), "ddof0"), (_paired_mutant(root=False), "no_sqrt_n"), (_paired_mutant(sign=-1.0), "reversed"),
])
def test_paired_interval_mistakes_are_named(mutant, key, capsys):
    assert not check_paired_interval(mutant)
    assert MISTAKES["paired_interval"][key] in capsys.readouterr().out


def test_the_kits_own_statistics_are_refused_in_the_paired_interval(capsys):
    from helpers.maths.statistics import mean_ci

    def with_the_kit(method_values, erm_values):
        ci = mean_ci(np.asarray(method_values) - np.asarray(erm_values))
        return ci.mean, ci.low, ci.high

    assert not check_paired_interval(with_the_kit)
    assert MISTAKES["paired_interval"]["kit_wrapper"] in capsys.readouterr().out


@pytest.mark.parametrize("mutant, key", [
    (lambda t, e: ("up" if t < e else "down") if abs(t - e) >= 0.01 else None, "reversed"),
    (lambda t, e: "up" if t > e else "down", "no_band"),
])
def test_kd_direction_prediction_mistakes_are_named(mutant, key, capsys):
    assert not check_kd_direction_prediction(mutant)
    assert MISTAKES["kd_direction_prediction"][key] in capsys.readouterr().out


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_the_prediction_exercise_is_the_kits_declared_rule(teacher, erm):
    from helpers.maths.hypotheses import kd_expectation

    solution, _ = SOLUTIONS["kd_direction_prediction"]
    assert solution(teacher, erm) == kd_expectation(teacher, erm)


def test_the_kits_rule_itself_is_refused_as_a_wrapper(capsys):
    from helpers.maths.hypotheses import kd_expectation

    assert not check_kd_direction_prediction(kd_expectation)
    assert MISTAKES["kd_direction_prediction"]["kit_wrapper"] in capsys.readouterr().out


# ----------------------------------------------------------------------------- one module per exercise, discovered


def test_every_exercise_module_is_discovered_and_lent_as_check_name():
    folder = Path(exercises.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "checking"))
    assert sorted(exercises.EXERCISES) == modules  # one exercise = one module, named after it
    for name, exercise in exercises.EXERCISES.items():
        assert getattr(exercises, f"check_{name}") is exercise.check and f"check_{name}" in exercises.__all__
        assert set(exercises.MISTAKES[name]) == set(exercise.mistakes) and "kit_wrapper" in exercise.mistakes


def test_each_exercise_names_its_notebook_function_and_check_arguments():
    """The module's notebook, function and arguments are those of the notebook's own exercise cell and check call."""
    import nbformat

    from helpers.pipeline.notebooks import NOTEBOOK_DIR, list_notebooks

    notebooks = {p.name[:2]: p for p in list_notebooks(NOTEBOOK_DIR)}
    for name, exercise in exercises.EXERCISES.items():
        code = "\n".join(c.source for c in nbformat.read(notebooks[exercise.notebook], as_version=4).cells
                         if c.cell_type == "code")
        assert re.search(rf"^def {exercise.function}\(", code, re.MULTILINE), (name, exercise.function)
        call = re.search(rf"check_{name}\(\s*{exercise.function}\s*(?:,([^)]*))?\)", code)
        assert call, (name, exercise.notebook)
        assert tuple(a.strip() for a in (call[1] or "").split(",") if a.strip()) == exercise.arguments


def test_visible_and_hidden_cases_differ_and_grading_never_shows_expected_values():
    for name, exercise in exercises.EXERCISES.items():
        arguments = exercise.instructor.arguments()
        visible = {case.name for case in exercise.cases(*arguments)}
        hidden = exercise.instructor.hidden(*arguments)
        assert visible.isdisjoint(case.name for case in hidden), name
        assert all(case.points > 0 for case in hidden), name
        for wrong, _ in exercise.instructor.wrong.values():
            for case in exercises.grade_exercise(name, wrong, *arguments).cases:
                assert not re.search(r"expected\s*(\(mean, low, high\) = |T ≈ |the loss )?[-\[\d]", case.message), (name, case)


def _kit_ls():
    import helpers.maths.losses as losses

    return losses.label_smoothing_loss


def test_a_wrapper_of_the_kits_function_is_refused_however_it_is_reached(capsys):
    import functools

    import helpers
    import helpers.maths.losses as losses
    from helpers import label_smoothing_loss as imported

    kept = imported

    def by_imported_name(z, y, a):
        return kept(z, y, a)

    def by_module_attribute(z, y, a):
        return losses.label_smoothing_loss(z, y, a)

    def by_flat_api(z, y, a):
        return helpers.label_smoothing_loss(z, y, a)

    def by_computed_name(z, y, a):
        return getattr(importlib.import_module("helpers.maths.losses"), "label_" + "smoothing_loss")(z, y, a)

    def by_a_helper_function(z, y, a):
        return _kit_ls()(z, y, a)

    wrappers = [imported, by_imported_name, by_module_attribute, by_flat_api, by_computed_name, by_a_helper_function,
                functools.partial(losses.label_smoothing_loss), lambda z, y, a: losses.Objective("ls", a).loss(z, y)]
    for wrapper in wrappers:
        result = exercises.run_check("label_smoothing_loss", wrapper)
        assert (result.passed, result.mistake) == (False, "kit_wrapper"), result.message
        assert "runs the kit's own `helpers.maths.losses." in result.message
    capsys.readouterr()


def test_the_kits_loss_is_allowed_where_the_exercise_says_so():
    """The KD training step may use helpers.maths.losses (the notebook says so); nothing else of the kit."""
    assert exercises.EXERCISES["kd_training_step"].allowed == ("helpers.maths.losses",)
    assert exercises.run_check("kd_training_step", SOLUTIONS["kd_training_step"][0]).passed


def test_grading_gives_points_per_case_and_names_the_mistake():
    grade = exercises.grade_exercise("entropy", _h_log2)
    assert grade.status == "ok" and not grade.passed and grade.points == 0 < grade.max_points
    assert grade.mistakes == ("log2",) and all(case.mistake == "log2" for case in grade.cases)
    partial = exercises.grade_exercise("entropy", lambda p: -(p * torch.log(p.clamp_min(1e-4))).sum(-1))
    assert 0 < partial.points < partial.max_points and partial.mistakes == ("floored",)
    blank = exercises.grade_exercise("kd_direction_prediction", _blank_none)
    assert (blank.status, blank.points) == ("blank", 0) and blank.max_points > 0
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.grade_exercise("nope", _blank_none)


# ----------------------------------------------------------------------------- the student edition


def _student_edition(path: Path):
    """The module at ``path`` with its instructor blocks removed, executed as a fresh module."""
    source = path.read_text(encoding="utf-8")
    module = types.ModuleType(f"student_edition_{path.stem}")
    exec(compile(strip_instructor(source), str(path), "exec"), module.__dict__)
    return source, module


@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_each_module_works_without_its_instructor_blocks(name, capsys, monkeypatch):
    full = exercises.EXERCISES[name]
    path = Path(inspect.getfile(full.check))
    source, module = _student_edition(path)
    student, stripped = module.EXERCISE, strip_instructor(source)
    assert student.instructor is None and "# BEGIN INSTRUCTOR" in source
    for function in [full.instructor.solution, full.instructor.hidden,
                     *(wrong for wrong, _ in full.instructor.wrong.values() if inspect.isfunction(wrong))]:
        assert inspect.getsource(function) in source and inspect.getsource(function) not in stripped, (name, function)
    assert "_hidden_cases" not in stripped and "_wrong_catalogue" not in stripped
    arguments = full.instructor.arguments()
    assert student.check.__name__ == full.check.__name__
    assert checking.verdict(student, full.instructor.solution, *arguments).passed  # the self-check still works
    assert checking.verdict(student, _blank_none, *arguments).status == "blank"
    monkeypatch.setitem(exercises.EXERCISES, name, student)
    exercises.show_solution(name)
    assert capsys.readouterr().out.strip() == exercises.NO_SOLUTIONS  # one line
    with pytest.raises(RuntimeError, match="student edition"):
        exercises.grade_exercise(name, full.instructor.solution)


def test_instructor_markers_must_balance():
    assert strip_instructor("a\n# BEGIN INSTRUCTOR\nb\n# END INSTRUCTOR\nc\n") == "a\nc\n"
    for broken in ("# BEGIN INSTRUCTOR\n", "# END INSTRUCTOR\n", "# BEGIN INSTRUCTOR\n# BEGIN INSTRUCTOR\n"):
        with pytest.raises(ValueError):
            strip_instructor(broken)


# ----------------------------------------------------------------------------- adding an exercise: one module

THROWAWAY = '''"""A throwaway exercise: double_it(x) -> 2 x."""

from helpers.teaching.exercises.checking import Case, Exercise, Instructor, Wrong, call, report


def _judge(fn, name, x):
    got = call(fn, name, x)
    if got != 2 * x:
        raise Wrong(f"case '{name}': expected {2 * x}, got {got!r}.", "halved" if got == x / 2 else "", "Multiply.",
                    redacted=f"case '{name}': wrong.")


def _case(name, x, points=0.0):
    return Case(name, lambda fn: _judge(fn, name, x), points)


def check_doubling(fn):
    """Check fn(x) -> 2 x."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def double_it(x):
    return 2 * x


INSTRUCTOR = Instructor(solution=double_it, hidden=lambda: [_case("five", 5, 2.0), _case("minus one", -1, 1.0)],
                        wrong={"halves": (lambda x: x / 2, "halved")})
# END INSTRUCTOR

EXERCISE = Exercise(name="doubling", notebook="90", function="double_it", check=check_doubling,
                    mistakes={"halved": "divided by 2"}, cases=lambda: [_case("three", 3)], instructor=INSTRUCTOR)
'''

PROBE = '''
import json, sys
from pathlib import Path

import nbformat

import helpers
from helpers import check_doubling
from helpers.teaching import exercises as ex
from helpers.pipeline.assignment import write_assignment

assert Path(helpers.__file__).resolve().is_relative_to(Path.cwd().resolve()), helpers.__file__
right, wrong = ex.grade_exercise("doubling", lambda x: 2 * x), ex.grade_exercise("doubling", lambda x: x / 2)
written = write_assignment(Path(sys.argv[1]), ["90"])
notebook = nbformat.read(written[0], as_version=4)
cells = [c.source for c in notebook.cells]
graded = [c.metadata.get("nbgrader", {}) for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
print(json.dumps({"discovered": "doubling" in ex.EXERCISES, "listed": "check_doubling" in ex.__all__,
                  "flat": check_doubling is ex.check_doubling, "check": ex.run_check("doubling", lambda x: x / 2).mistake,
                  "right": [right.points, right.max_points], "wrong": [wrong.points, list(wrong.mistakes)],
                  "solution": any("### BEGIN SOLUTION" in c and "return 2 * x" in c for c in cells),
                  "autograder": [(g["grade_id"], g["points"]) for g in graded]}))
'''


@pytest.mark.slow
def test_a_new_exercise_is_one_module_and_a_notebook_cell(tmp_path):
    """A throwaway exercise module dropped into a copy of the package is discovered, lent by the flat API, graded and
    exported to nbgrader, with no other file touched."""
    import nbformat

    root = Path(exercises.__file__).resolve().parents[3]
    copy = tmp_path / "kit"
    shutil.copytree(root / "helpers", copy / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "student_notebooks", "*.pyc"))
    shutil.copy(root / "pyproject.toml", copy / "pyproject.toml")
    (copy / "helpers" / "teaching" / "exercises" / "doubling.py").write_text(THROWAWAY, encoding="utf-8")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 90 A throwaway exercise"),
        nbformat.v4.new_code_cell("def double_it(x):\n    ...  # your code here"),
        nbformat.v4.new_code_cell("from helpers import check_doubling\n\ncheck_doubling(double_it);")])
    (copy / "notebooks").mkdir()
    nbformat.write(notebook, copy / "notebooks" / "90_throwaway.ipynb")
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "course")], cwd=copy, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(copy)})
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"discovered": True, "listed": True, "flat": True, "check": "halved", "right": [3.0, 3.0],
                     "wrong": [0.0, ["halved"]], "solution": True, "autograder": [["doubling_test", 3.0]]}


def test_the_readmes_worked_example_of_a_new_exercise_works():
    """README's "Adding an exercise" module, run as a module: its solution passes, its wrong answers are named, and
    without its instructor block it still checks."""
    readme = (Path(exercises.__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    start = readme.index("A worked example, `helpers/teaching/exercises/max_probability.py`:")
    source = re.search(r"```python\n(.*?)```", readme[start:], re.DOTALL)[1]
    for text in (source, strip_instructor(source)):
        module = types.ModuleType("readme_example")
        exec(compile(text, "<README example>", "exec"), module.__dict__)  # noqa: S102
        example = module.EXERCISE
        if example.instructor is not None:
            assert checking.verdict(example, example.instructor.solution).passed
            assert checking.grade(example, example.instructor.solution).passed
            for wrong, key in example.instructor.wrong.values():
                assert checking.verdict(example, wrong).mistake == key
                assert key in checking.grade(example, wrong).mistakes
    assert checking.verdict(example, lambda probs: probs.max(-1).values).passed and example.instructor is None
