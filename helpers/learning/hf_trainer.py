"""ERM, label smoothing (LS) and knowledge distillation (KD) through the Hugging Face ``Trainer``.

This is the kit's paper-scale path: the same losses as the CPU loop in ``helpers.learning.finetune``
(``helpers.maths.losses``: means over the batch, natural log, ``alpha`` weights the soft part,
``tau**2`` multiplies KD's KL term only), run by ``transformers.Trainer`` so that one GPU,
several GPUs (``accelerate launch`` / ``torchrun``: DDP) and bf16 come for free.

* ``DistillationTrainer(model, args, ..., method="kd", alpha=0.5, temperature=1.0,
  teacher_model=teacher)`` (or ``objective=Objective("kd", 0.5, 1.0)``) — a ``Trainer`` whose
  ``compute_loss`` computes the kit's loss, ``helpers.maths.losses.Objective.loss``, with the ``model``
  it is given (so a DDP-wrapped student works). The objective is built and validated once, in
  ``__init__``; the first batch's logits, labels and teacher logits are checked once
  (``Objective.check_batch``), later steps are not (a value check synchronises with the device). The teacher is frozen
  (``requires_grad=False``), kept in eval mode, moved to the device and prepared with
  ``accelerator.prepare_model(teacher, evaluation_mode=True)`` (device placement and the
  run's mixed precision, never DDP: it is not trained).
* Teacher logits may instead come precomputed, as a dataset column (``teacher_logits``,
  one list of K floats per row). A batch's column wins over the live teacher, so a run may
  precompute the training split's logits and let the live teacher cover evaluation. The
  column reaches ``compute_loss`` only with ``remove_unused_columns=False``.
* ``label_smoothing_factor`` must stay 0: LS goes through ``helpers.maths.losses.label_smoothing_loss``
  (a non-zero factor would smooth twice).
* Gradient accumulation and several processes: the Trainer passes ``num_items_in_batch``,
  the number of labelled examples in the whole optimizer step (summed over processes when
  ``average_tokens_across_devices``, the default). ``compute_loss`` turns the micro-batch mean
  into that micro-batch's share of the step's mean (``mean * n / num_items_in_batch``, times
  the number of processes whose gradients DDP averages), so accumulating 2 x 4 examples is the
  same step as one batch of 8, ragged last steps included. Without ``num_items_in_batch`` it
  divides by the number of accumulated micro-batches. Either way the returned loss is already
  scaled (``loss_is_scaled_for_ga = True``). In evaluation it is the plain batch mean.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import torch
from transformers import EvalPrediction, Trainer

from helpers.maths.losses import METHODS, Objective
from helpers.maths.metrics import summarize

__all__ = ["METHODS", "TEACHER_LOGITS_COLUMN", "DistillationTrainer", "compute_metrics", "forward_argument_names"]

TEACHER_LOGITS_COLUMN = "teacher_logits"


def forward_argument_names(model: torch.nn.Module) -> frozenset[str]:
    """Names of the explicit arguments of ``model.forward`` (``labels``, ``*args``, ``**kwargs`` excluded).

    A BERT takes ``token_type_ids``, a DistilBERT does not: each model gets only its own inputs.
    """
    return _forward_names(type(model))


@functools.cache
def _forward_names(model_class: type) -> frozenset[str]:
    signature = inspect.signature(model_class.forward)
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return frozenset(name for name, p in signature.parameters.items() if p.kind not in skip and name not in ("self", "labels"))


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """The kit's headline metrics of a ``Trainer`` evaluation: accuracy, entropy, max_prob, nll, ece.

    ``helpers.maths.metrics.summarize`` on the gathered logits (natural log, 15 ECE bins).
    """
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    labels = prediction.label_ids[0] if isinstance(prediction.label_ids, tuple) else prediction.label_ids
    return summarize(torch.as_tensor(np.asarray(logits, dtype=np.float32)), torch.as_tensor(np.asarray(labels)).long())


def _objective_of(objective: Objective | None, method: str | None, alpha: float | None,
                  temperature: float | None) -> Objective:
    """The trainer's one ``Objective``: the given one, or one built (and validated) from the three arguments."""
    if objective is not None:
        if not isinstance(objective, Objective):
            raise ValueError(f"objective must be a helpers.maths.losses.Objective, got {type(objective).__name__}")
        given = [name for name, value in (("method", method), ("alpha", alpha), ("temperature", temperature))
                 if value is not None]
        if given:
            raise ValueError(f"pass either objective=... or method/alpha/temperature, not both (got {', '.join(given)})")
        return objective
    return Objective(
        method="erm" if method is None else method,
        alpha=0.0 if alpha is None else alpha,
        temperature=1.0 if temperature is None else temperature,
    )


class DistillationTrainer(Trainer):
    """A ``transformers.Trainer`` training with the kit's ERM, LS or KD loss.

    Arguments are those of ``Trainer`` plus ``method`` (``"erm"``, ``"ls"`` or ``"kd"``),
    ``alpha`` (weight of the soft part; must be 0 for ERM), ``temperature`` (KD only) — or one
    ready ``objective`` (a :class:`helpers.maths.losses.Objective`) instead of those three — and
    ``teacher_model`` (KD: a frozen teacher run live; optional when every batch carries a
    ``teacher_logits_column``). Defaults: ERM.
    """

    loss_is_scaled_for_ga = True  # compute_loss scales for gradient accumulation itself (see module docstring)

    def __init__(
        self,
        *args: Any,
        teacher_model: torch.nn.Module | None = None,
        method: str | None = None,
        alpha: float | None = None,
        temperature: float | None = None,
        objective: Objective | None = None,
        teacher_logits_column: str = TEACHER_LOGITS_COLUMN,
        **kwargs: Any,
    ) -> None:
        self.objective = _objective_of(objective, method, alpha, temperature)
        if not self.objective.needs_teacher and teacher_model is not None:
            raise ValueError(f"teacher_model is only used with method='kd', got method={self.objective.method!r}")
        if kwargs.get("compute_loss_func") is not None:
            raise ValueError("compute_loss_func is not used: DistillationTrainer computes its loss with helpers.maths.losses")
        self.teacher_logits_column = teacher_logits_column
        self._has_live_teacher = teacher_model is not None
        self._batch_checked = False  # Objective.check_batch runs on the first batch only
        super().__init__(*args, **kwargs)

        if self.args.label_smoothing_factor != 0:
            raise ValueError(
                f"label_smoothing_factor must be 0, got {self.args.label_smoothing_factor!r}: "
                "use method='ls' with alpha=... (the Trainer's own smoothing would smooth twice)"
            )
        if teacher_model is not None and teacher_model is self.model:
            raise ValueError("teacher_model must be a separate model, not the student being trained")
        self._check_teacher_logits_column()
        self.teacher_model = None if teacher_model is None else self._prepare_teacher(teacher_model)
        self._check_teacher_inputs()

    @property
    def method(self) -> str:
        return self.objective.method

    @property
    def alpha(self) -> float:
        return self.objective.alpha

    @property
    def temperature(self) -> float:
        return self.objective.temperature

    # ---- set-up checks -------------------------------------------------------------

    def _datasets(self) -> list:
        datasets = [self.train_dataset]
        if isinstance(self.eval_dataset, dict):
            datasets += list(self.eval_dataset.values())
        else:
            datasets.append(self.eval_dataset)
        return [d for d in datasets if d is not None and hasattr(d, "column_names")]

    def _check_teacher_logits_column(self) -> None:
        """KD needs a live teacher or precomputed logits that survive column removal."""
        has_column = any(self.teacher_logits_column in d.column_names for d in self._datasets())
        if has_column and self.args.remove_unused_columns:
            raise ValueError(
                f"the dataset has a {self.teacher_logits_column!r} column but remove_unused_columns=True would drop it "
                "before compute_loss: pass TrainingArguments(remove_unused_columns=False, ...) and keep only the "
                "columns the models and the collator need"
            )
        if not self.objective.needs_teacher or self._has_live_teacher:
            return
        train = self.train_dataset
        if train is not None and hasattr(train, "column_names") and self.teacher_logits_column not in train.column_names:
            raise ValueError(
                f"method='kd' needs a teacher: pass teacher_model=... or a {self.teacher_logits_column!r} "
                "column of precomputed teacher logits in the training dataset"
            )

    def _prepare_teacher(self, teacher: torch.nn.Module) -> torch.nn.Module:
        """Freeze the teacher, put it in eval mode, on the device, under the run's mixed precision."""
        self._teacher_inputs = forward_argument_names(teacher)
        teacher.requires_grad_(False)
        teacher.eval()
        return self.accelerator.prepare_model(teacher, evaluation_mode=True)

    def _check_teacher_inputs(self) -> None:
        """With column removal on, the dataset keeps only the student's inputs; the teacher must not need more."""
        if self.teacher_model is None or not self.args.remove_unused_columns:
            return
        student_inputs = forward_argument_names(self.accelerator.unwrap_model(self.model))
        for dataset in self._datasets():
            lost = sorted((self._teacher_inputs - student_inputs) & set(dataset.column_names))
            if lost:
                raise ValueError(
                    f"the teacher takes {lost} but the student does not, so remove_unused_columns=True would drop "
                    f"them from the batches: pass remove_unused_columns=False and keep only the columns the models need"
                )

    # ---- the loss ------------------------------------------------------------------

    @staticmethod
    def _inputs_for(names: frozenset[str], inputs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in inputs.items() if k in names}

    def _teacher_logits(self, inputs: dict[str, Any]) -> torch.Tensor:
        """The batch's precomputed teacher logits if present, else a no-grad eval-mode teacher forward."""
        column = inputs.get(self.teacher_logits_column)
        if column is not None:
            return column
        if self.teacher_model is None:
            raise ValueError(
                f"method='kd': this batch has no {self.teacher_logits_column!r} and there is no teacher_model "
                "(add the column to every dataset the trainer sees, or pass teacher_model=...)"
            )
        self.teacher_model.eval()
        with torch.no_grad():
            return self.teacher_model(**self._inputs_for(self._teacher_inputs, inputs)).logits

    def _scale_for_accumulation(self, loss: torch.Tensor, batch_size: int, num_items_in_batch) -> torch.Tensor:
        """This micro-batch's share of the optimizer step's mean loss (see the module docstring)."""
        if num_items_in_batch is not None and self.args.n_gpu <= 1:
            share = loss * batch_size / num_items_in_batch
            if self.args.average_tokens_across_devices:  # the count is global; DDP averages over processes
                share = share * self.accelerator.num_processes
            return share
        steps = getattr(self, "current_gradient_accumulation_steps", self.args.gradient_accumulation_steps)
        return loss / steps

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ):
        """The kit's loss on one batch, computed with ``model`` (the possibly DDP-wrapped student).

        Training mode: scaled for gradient accumulation and data parallelism; eval mode: the batch mean.
        """
        if "labels" not in inputs:
            raise ValueError(f"the batch has no 'labels' (keys: {sorted(inputs)}); the collator must provide them")
        labels = inputs["labels"]
        student_inputs = forward_argument_names(self.accelerator.unwrap_model(model))
        outputs = model(**self._inputs_for(student_inputs, inputs))
        teacher_logits = self._teacher_logits(inputs) if self.objective.needs_teacher else None
        if not self._batch_checked:  # once per trainer: a value check waits for the device
            self.objective.check_batch(outputs.logits, labels, teacher_logits)
            self._batch_checked = True
        loss = self.objective.loss(outputs.logits, labels, teacher_logits)
        if model.training:
            loss = self._scale_for_accumulation(loss, labels.shape[0], num_items_in_batch)
        return (loss, outputs) if return_outputs else loss
