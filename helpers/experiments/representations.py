"""Müller, Kornblith & Hinton (2019)'s picture of the penultimate layer, on the feature tier.

A classifier's logit for class ``k`` is ``w_k · x + b_k``: ``x`` is the penultimate-layer
activation and ``w_k`` (a row of the last layer's weight) is class ``k``'s *template*. Müller
et al. visualise ``x`` by (i) picking three classes, (ii) taking an orthonormal basis of the
plane through their three templates, and (iii) projecting the activations of those classes'
examples onto it. Label smoothing pulls every example towards its own template and keeps it at
the same distance from all others, so LS gives tight, equidistant clusters.

* ``template_plane(templates)`` — the plane through three template points: its origin (their
  centroid) and an orthonormal basis ``(D, 2)`` (Gram-Schmidt on ``w_b − w_a`` and ``w_c − w_a``).
* ``project(points, templates)`` — coordinates of points in that plane (``(points − origin) @ basis``);
  the templates themselves land on a triangle's vertices (equilateral when they are orthonormal
  and of equal norm).
* ``cluster_tightness(coords, labels)`` — mean distance to the own class mean divided by the mean
  distance between class means (smaller: tighter clusters).
* ``head_projection(config, data, classes)`` — trains a head with a hidden layer and returns its
  projected penultimate activations as a frame, plus the projected templates.

Two grids go with the paper's other findings: ``smoothed_teacher_grid`` (Müller et al.: a teacher
trained with LS distils worse) and ``virtual_teacher_grid`` (Yuan et al.'s teacher-free KD next to LS).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from helpers.learning.frozen_features import FeatureSet

from helpers.learning.features import HeadConfig, VirtualTeacher, head_inputs, penultimate, train_head

__all__ = [
    "template_plane",
    "project",
    "cluster_tightness",
    "projection_frame",
    "head_projection",
    "smoothed_teacher_grid",
    "virtual_teacher_grid",
]


def _as_matrix(values, name: str) -> torch.Tensor:
    tensor = values.double() if isinstance(values, torch.Tensor) else torch.tensor(np.array(values, dtype=np.float64))
    if tensor.dim() != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {tuple(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains non-finite values")
    return tensor


def _as_labels(labels) -> torch.Tensor:
    return labels.long().clone() if isinstance(labels, torch.Tensor) else torch.tensor(np.array(labels, dtype=np.int64))


def template_plane(templates) -> tuple[torch.Tensor, torch.Tensor]:
    """Origin ``(D,)`` (centroid of the three templates) and orthonormal basis ``(D, 2)`` of their plane."""
    t = _as_matrix(templates, "templates")
    if t.shape[0] != 3:
        raise ValueError(f"templates must hold exactly 3 rows (three classes), got {t.shape[0]}")
    if t.shape[1] < 2:
        raise ValueError(f"templates must have dimension >= 2, got {t.shape[1]}")
    u, v = t[1] - t[0], t[2] - t[0]
    if u.norm() < 1e-12:
        raise ValueError("templates are degenerate: the first two coincide")
    e1 = u / u.norm()
    w = v - (v @ e1) * e1
    if w.norm() < 1e-9 * max(1.0, float(v.norm())):
        raise ValueError("templates are degenerate: the three points are collinear, they span no plane")
    e2 = w / w.norm()
    return t.mean(dim=0), torch.stack([e1, e2], dim=1)


def project(points, templates) -> torch.Tensor:
    """Coordinates ``(N, 2)`` of ``points`` (``(N, D)``) in the plane through the three ``templates``."""
    x = _as_matrix(points, "points")
    origin, basis = template_plane(templates)
    if x.shape[1] != basis.shape[0]:
        raise ValueError(f"points have dimension {x.shape[1]} but templates have {basis.shape[0]}")
    return (x - origin) @ basis


def cluster_tightness(coords, labels) -> float:
    """Mean distance of points to their class mean / mean pairwise distance between class means."""
    x = _as_matrix(coords, "coords")
    y = _as_labels(labels)
    if y.shape != (x.shape[0],):
        raise ValueError(f"labels must have shape ({x.shape[0]},), got {tuple(y.shape)}")
    classes = torch.unique(y)
    if len(classes) < 2:
        raise ValueError("need at least two classes to compare spread with separation")
    means = torch.stack([x[y == c].mean(dim=0) for c in classes])
    within = torch.cat([(x[y == c] - means[i]).norm(dim=1) for i, c in enumerate(classes)]).mean()
    between = torch.pdist(means).mean()
    return float(within / between)


def projection_frame(activations, labels, templates, classes: Sequence[int], names: Sequence[str] | None = None) -> pd.DataFrame:
    """Project the examples of ``classes`` onto the plane of those classes' templates.

    ``templates`` is the full ``(K, D)`` last-layer weight; returns columns ``x``, ``y``, ``label``
    (index) and ``class`` (name).
    """
    classes = [int(c) for c in classes]
    weights = _as_matrix(templates, "templates")
    if len(classes) != 3 or len(set(classes)) != 3:
        raise ValueError(f"classes must be three distinct class indices, got {classes}")
    if min(classes) < 0 or max(classes) >= weights.shape[0]:
        raise ValueError(f"classes must lie in [0, {weights.shape[0]}), got {classes}")
    y = _as_labels(labels)
    keep = torch.isin(y, torch.tensor(classes))
    coords = project(_as_matrix(activations, "activations")[keep], weights[classes])
    names = list(names) if names is not None else [str(c) for c in range(weights.shape[0])]
    return pd.DataFrame({"x": coords[:, 0].numpy(), "y": coords[:, 1].numpy(), "label": y[keep].numpy(),
                         "class": [names[int(i)] for i in y[keep]]})


def head_projection(config: HeadConfig, data: FeatureSet, classes: Sequence[int], split: str = "test") -> tuple[pd.DataFrame, np.ndarray, float]:
    """Train ``config`` (a head with ``hidden > 0``), project its penultimate activations on ``split``.

    Returns ``(frame, template_coords (3, 2), tightness)``.
    """
    if config.hidden == 0:
        raise ValueError("config.hidden must be > 0: a linear head has no penultimate layer of its own")
    record, head = train_head(config, data, return_model=True)
    activations = penultimate(head, head_inputs(config, data)[split])
    weights = head[-1].weight.detach()
    frame = projection_frame(activations, record.labels[split], weights, classes, data.label_names)
    vertices = project(weights[[int(c) for c in classes]], weights[[int(c) for c in classes]]).numpy()
    tightness = cluster_tightness(frame[["x", "y"]].to_numpy(), frame["label"].to_numpy())
    return frame, vertices, tightness


def smoothed_teacher_grid(student: HeadConfig, teacher: HeadConfig, ls_alphas: Sequence[float],
                          temperatures: Sequence[float], alpha: float, seeds: Sequence[int]) -> list[HeadConfig]:
    """Teachers (ERM ``teacher`` and the same trained with LS at each α), then KD students of each
    teacher at each τ and seed (KD weight ``alpha``): Müller et al.'s "LS teachers distil worse" test."""
    if student.method != "erm" or teacher.method != "erm":
        raise ValueError("student and teacher must be ERM configs (the grid sets the methods)")
    teachers = [teacher] + [teacher.replace(method="ls", alpha=float(a)) for a in ls_alphas]
    students = [student.replace(method="kd", alpha=alpha, temperature=float(t), teacher=t_config, seed=int(seed))
                for t_config in teachers for t in temperatures for seed in seeds]
    return teachers + students


def virtual_teacher_grid(student: HeadConfig, a_values: Sequence[float], temperature: float, alpha: float,
                         ls_alpha: float, seeds: Sequence[int]) -> list[HeadConfig]:
    """Per seed: ERM, LS at ``ls_alpha`` and KD from a ``VirtualTeacher(a)`` for each ``a`` at ``temperature``."""
    if student.method != "erm":
        raise ValueError(f"student must be an ERM config, got method={student.method!r}")
    grid = []
    for seed in seeds:
        base = student.replace(seed=int(seed))
        grid += [base, base.replace(method="ls", alpha=ls_alpha)]
        grid += [base.replace(method="kd", alpha=alpha, temperature=temperature, teacher=VirtualTeacher(float(a)))
                 for a in a_values]
    return grid
