"""Müller et al.'s template-plane projection and the cluster tightness measure."""

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.learning.frozen_features import toy_feature_set

from helpers.learning.features import HeadConfig, VirtualTeacher
from helpers.experiments.representations import (
    cluster_tightness,
    head_projection,
    project,
    projection_frame,
    smoothed_teacher_grid,
    template_plane,
    virtual_teacher_grid,
)


def _orthonormal(dim: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(dim, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return q.T  # (3, dim), orthonormal rows


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 64), st.floats(0.1, 100.0), st.integers(0, 10_000))
def test_orthonormal_equal_norm_templates_land_on_an_equilateral_triangle(dim, norm, seed):
    templates = norm * _orthonormal(dim, seed)
    corners = project(templates, templates)
    sides = [float((corners[i] - corners[j]).norm()) for i, j in itertools.combinations(range(3), 2)]
    assert sides == pytest.approx([norm * math.sqrt(2)] * 3, rel=1e-9)
    assert corners.mean(0).abs().max() < 1e-9 * norm  # the origin is the triangle's centre


def test_the_basis_is_orthonormal_and_spans_the_templates_plane():
    templates = torch.tensor([[1.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    origin, basis = template_plane(templates)
    torch.testing.assert_close(basis.T @ basis, torch.eye(2, dtype=torch.float64))
    # each template is recovered exactly from its 2-D coordinates: it lies in the plane
    torch.testing.assert_close(origin + project(templates, templates) @ basis.T, templates)
    # a point off the plane loses only its orthogonal part
    normal = torch.tensor([0.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    normal[2] = 1.0
    off = normal - basis @ (basis.T @ normal)
    torch.testing.assert_close(project((origin + off)[None], templates), torch.zeros(1, 2, dtype=torch.float64))


@pytest.mark.parametrize("templates, message", [
    (torch.ones(2, 4), "exactly 3"), (torch.ones(3, 4), "degenerate"),
    (torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), "collinear"), (torch.ones(3), "2-D"),
    (torch.tensor([[0.0, float("nan")], [1.0, 0.0], [0.0, 1.0]]), "non-finite"),
])
def test_template_plane_rejects_bad_templates(templates, message):
    with pytest.raises(ValueError, match=message):
        template_plane(templates)


def test_cluster_tightness():
    means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    labels = np.repeat([0, 1, 2], 2)
    assert cluster_tightness(np.repeat(means, 2, axis=0), labels) == 0.0
    spread = np.repeat(means, 2, axis=0) + np.array([[1, 0], [-1, 0]] * 3)
    assert cluster_tightness(spread, labels) == pytest.approx(1.0 / 4.0)  # spread 1, separations 3, 4, 5
    with pytest.raises(ValueError, match="two classes"):
        cluster_tightness(np.zeros((3, 2)), np.zeros(3))


def test_projection_frame_keeps_the_three_classes():
    weights = torch.eye(5, 6)
    activations = torch.randn(20, 6, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(20) % 5
    frame = projection_frame(activations, labels, weights, [0, 2, 4], names=list("abcde"))
    assert len(frame) == 12 and set(frame["class"]) == {"a", "c", "e"}
    with pytest.raises(ValueError, match="three distinct"):
        projection_frame(activations, labels, weights, [0, 0, 1])
    with pytest.raises(ValueError, match="lie in"):
        projection_frame(activations, labels, weights, [0, 1, 9])


def test_label_smoothing_tightens_the_clusters_of_a_head():
    data = toy_feature_set(num_classes=3, per_class=80, dim=16, seed=1)
    base = HeadConfig(layer=6, hidden=16, epochs=40, batch_size=32, learning_rate=5e-3)
    erm_frame, vertices, erm_tight = head_projection(base, data, [0, 1, 2])
    _, _, ls_tight = head_projection(base.replace(method="ls", alpha=0.3), data, [0, 1, 2])
    assert len(erm_frame) == 120 and vertices.shape == (3, 2)
    assert ls_tight < erm_tight
    with pytest.raises(ValueError, match="hidden"):
        head_projection(base.replace(hidden=0), data, [0, 1, 2])


def test_smoothed_teacher_grid():
    student, teacher = HeadConfig(layer=2, epochs=3), HeadConfig(layer=6, epochs=20)
    grid = smoothed_teacher_grid(student, teacher, ls_alphas=[0.1, 0.3], temperatures=[1.0, 4.0], alpha=0.5, seeds=[0, 1])
    teachers, students = grid[:3], grid[3:]
    assert [t.method for t in teachers] == ["erm", "ls", "ls"] and teachers[2].alpha == 0.3
    assert len(students) == 3 * 2 * 2 and all(s.method == "kd" and s.teacher in teachers for s in students)
    with pytest.raises(ValueError, match="ERM"):
        smoothed_teacher_grid(student.replace(method="ls", alpha=0.1), teacher, [0.1], [1.0], 0.5, [0])


def test_virtual_teacher_grid():
    grid = virtual_teacher_grid(HeadConfig(layer=2), a_values=[0.9, 0.99], temperature=20.0, alpha=0.5, ls_alpha=0.1, seeds=[0, 1])
    assert [c.method for c in grid] == ["erm", "ls", "kd", "kd"] * 2
    assert grid[3].teacher == VirtualTeacher(0.99) and grid[3].temperature == 20.0 and grid[5].seed == 1
