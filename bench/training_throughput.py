"""Training throughput of one KD fine-tuning job: the kit's loop versus ``transformers.Trainer``.

The job (identical in both): an L2 student (``build_model("L2", 6)``: the first 2 MiniLM layers)
distilled from an L6 teacher on TREC (6 classes), ``alpha=0.5``, ``tau=1``, batch size 32,
``STEPS`` optimizer steps, ``max_length=64``, AdamW (lr 1e-4, weight decay 0.01, 10% linear
warm-up then linear decay, gradient clipping at 1.0), bf16 autocast where the CPU has native
bf16 (AMX / AVX512-BF16), fp32 otherwise.

Choices, made to compare each engine used the way it is meant to be used:

* Kit: ``helpers.training.train`` with a KD ``TrainConfig`` whose teacher is an L6 ERM config.
  The teacher is trained beforehand, outside the timed part, on a small budget (``epochs=0.2``,
  through the results cache, so only the first run pays for it): the benchmark measures the
  student's training. The kit reads the teacher's logits from the cache (computed once per
  data set), which is the kit's design. Examples/s is ``record.timings["examples_per_second"]``
  (the training loop only: no data preparation, no evaluation). Batches are length-grouped
  (shuffle, sort within mega-batches of 50 batches) and padded per batch, sliced from tensors
  padded once per run. The student's embedding table is trimmed to the token ids that occur in
  the data while it trains (``helpers.models.trim_vocabulary``) and restored afterwards: the
  same model up to rounding (a test checks it), with under a third of the embedding rows to
  back-propagate into, clip and update.
* Trainer: ``helpers.trainer.DistillationTrainer`` with a live L6 teacher (``build_model("L6", 6)``),
  its forward pass inside ``compute_loss`` -- the usual way to distil with the Trainer. Its
  natural CPU settings: ``use_cpu=True``, ``bf16=True`` where supported (accelerate's autocast),
  the default fused AdamW, ``DataCollatorWithPadding`` (dynamic padding), and
  ``train_sampling_strategy="group_by_length"`` (mega-batches of 50, the same grouping as the
  kit's, so both pay for the same padding). No evaluation, logging or checkpoints. Timed from
  ``on_train_begin`` to ``on_train_end`` (the training loop only).
* The same tokenized TREC training split (``helpers.training.prepare_data``) feeds both, with
  the same number of threads. The teacher's weights do not change the cost, so the Trainer's
  teacher is an untrained L6 of the same shape.

Model-FLOP utilisation (MFU): FLOPs per example ~ 6 * N * T for the student's training plus
2 * N_teacher * T for a teacher forward pass, with N the non-embedding parameters and T the mean
number of real (unpadded) tokens per training example; attention-score FLOPs are left out (short
sequences). Each engine's MFU counts the FLOPs it performs (the kit: the student's training
only, its teacher logits being cached; the Trainer: student training + live teacher forward),
against a peak measured in the same run by a bf16 (else fp32) ``torch.matmul`` of 2048 x 2048.

Run with ``make bench`` or ``python bench/training_throughput.py [--repeats N]``; the last line is
``speedup_vs_trainer=X.XX`` (kit examples/s over Trainer examples/s). Timings on a shared
machine vary: the load average is printed with the results. With ``--repeats 2`` or more the two
engines alternate (kit, Trainer, Trainer, kit, ...: a drift in the machine's load hits both alike)
and each engine's best run counts (other work can only slow a run down).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import helpers  # noqa: E402,F401  (offline Hugging Face settings first)
import torch  # noqa: E402
from transformers import DataCollatorWithPadding, PrinterCallback, TrainerCallback, TrainingArguments  # noqa: E402

from helpers.models import build_model  # noqa: E402
from helpers.trainer import DistillationTrainer  # noqa: E402
from helpers.training import TrainConfig, bf16_supported, prepare_data, run, seed_everything, train  # noqa: E402

STEPS = 60
BATCH_SIZE = 32
MAX_LENGTH = 64
NUM_LABELS = 6
MATMUL_SIZE = 2048


def non_embedding_parameters(model: torch.nn.Module) -> int:
    """Parameters outside the embedding tables (word, position, token type): the ones a token's FLOPs scale with."""
    return sum(p.numel() for name, p in model.named_parameters() if ".embeddings." not in f".{name}")


def matmul_peak_flops(bf16: bool, size: int = MATMUL_SIZE, seconds: float = 2.0) -> float:
    """Measured FLOP/s of a square ``torch.matmul`` (bf16 if ``bf16`` else fp32): the MFU denominator."""
    dtype = torch.bfloat16 if bf16 else torch.float32
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(3):
        torch.matmul(a, b)
    reps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.matmul(a, b)
        reps += 1
    return 2 * size**3 * reps / (time.perf_counter() - started)


class _LoopTimer(TrainerCallback):
    """Wall time of the Trainer's training loop (``on_train_begin`` to ``on_train_end``)."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = time.perf_counter() - self.started


def kit_examples_per_second(student: TrainConfig) -> float:
    """The kit's loop on the KD config (its teacher must already be in the results cache)."""
    record = train(student, progress=False)
    if record.info["steps"] != STEPS:
        raise RuntimeError(f"the kit ran {record.info['steps']} steps, not {STEPS}")
    return record.timings["examples_per_second"]


def trainer_examples_per_second(data, tokenizer, bf16: bool, output_dir: str) -> float:
    """``DistillationTrainer`` with a live L6 teacher on the same data, ``STEPS`` steps."""
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids", "label", "length") if c in data.column_names]
    seed_everything(0)
    student = build_model("L2", NUM_LABELS, seed=0)
    teacher = build_model("L6", NUM_LABELS, seed=0)
    args = TrainingArguments(
        output_dir=output_dir, per_device_train_batch_size=BATCH_SIZE, max_steps=STEPS, learning_rate=1e-4,
        weight_decay=0.01, warmup_steps=0.1, max_grad_norm=1.0, use_cpu=True, bf16=bf16,
        train_sampling_strategy="group_by_length", length_column_name="length", remove_unused_columns=False,
        dataloader_pin_memory=False, save_strategy="no", eval_strategy="no", logging_strategy="no",
        report_to="none", disable_tqdm=True, seed=0,
    )
    timer = _LoopTimer()
    trainer = DistillationTrainer(
        model=student, args=args, train_dataset=data.select_columns(columns), data_collator=DataCollatorWithPadding(tokenizer),
        method="kd", alpha=0.5, temperature=1.0, teacher_model=teacher, callbacks=[timer],
    )
    trainer.remove_callback(PrinterCallback)  # no log lines
    trainer.train()
    return STEPS * BATCH_SIZE / timer.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Training throughput: the kit's loop vs transformers.Trainer.")
    parser.add_argument("--repeats", type=int, default=1, help="runs per engine, alternating (best run counts)")
    repeats = parser.parse_args(argv).repeats
    if repeats < 1:
        parser.error(f"--repeats must be >= 1, got {repeats}")
    bf16 = bf16_supported()
    threads = torch.get_num_threads()
    load_before = os.getloadavg()
    teacher = TrainConfig(task="trec", student="L6", method="erm", epochs=0.2, batch_size=BATCH_SIZE, max_length=MAX_LENGTH)
    print("teacher: L6 ERM, epochs=0.2 (through the results cache; not timed) ...", flush=True)
    run(teacher, progress=False)

    data, tokenizer, _ = prepare_data(teacher)
    train_split = data["train"]
    steps_per_epoch = -(-len(train_split) // BATCH_SIZE)
    student = TrainConfig(task="trec", student="L2", method="kd", alpha=0.5, temperature=1.0, teacher=teacher,
                          epochs=(STEPS - 0.5) / steps_per_epoch, batch_size=BATCH_SIZE, max_length=MAX_LENGTH)

    tokens = sum(train_split["length"]) / len(train_split)
    n_student = non_embedding_parameters(build_model("L2", NUM_LABELS))
    n_teacher = non_embedding_parameters(build_model("L6", NUM_LABELS))
    kit_flops = 6 * n_student * tokens
    trainer_flops = kit_flops + 2 * n_teacher * tokens

    runs: dict[str, list[float]] = {"kit": [], "trainer": []}
    with tempfile.TemporaryDirectory() as output_dir:
        for repeat in range(repeats):
            order = ("kit", "trainer") if repeat % 2 == 0 else ("trainer", "kit")
            for engine in order:
                if engine == "kit":
                    print(f"[{repeat + 1}/{repeats}] kit loop (helpers.training.train) ...", flush=True)
                    runs["kit"].append(kit_examples_per_second(student))
                else:
                    print(f"[{repeat + 1}/{repeats}] transformers.Trainer (DistillationTrainer, live teacher) ...", flush=True)
                    runs["trainer"].append(trainer_examples_per_second(train_split, tokenizer, bf16, output_dir))
    peak = matmul_peak_flops(bf16)
    load_after = os.getloadavg()
    kit, hf = max(runs["kit"]), max(runs["trainer"])

    precision = "bf16" if bf16 else "fp32"
    print()
    print(f"job: KD L6 -> L2 on TREC, batch {BATCH_SIZE}, {STEPS} steps, max_length {MAX_LENGTH}, {precision}, "
          f"{threads} threads; mean {tokens:.1f} real tokens per example")
    print(f"non-embedding parameters: student {n_student / 1e6:.2f} M, teacher {n_teacher / 1e6:.2f} M")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} (the machine may be shared)")
    if repeats > 1:
        for engine, values in runs.items():
            print(f"{engine} runs (examples/s): {', '.join(f'{v:.1f}' for v in values)}; best counts")
    print(f"matmul peak ({precision} {MATMUL_SIZE}x{MATMUL_SIZE}): {peak / 1e9:.1f} GFLOP/s")
    print(f"kit loop:             {kit:7.1f} examples/s   MFU {kit * kit_flops / peak:6.1%}   "
          f"({kit_flops / 1e9:.2f} GFLOP/example: student training; teacher logits cached)")
    print(f"transformers.Trainer: {hf:7.1f} examples/s   MFU {hf * trainer_flops / peak:6.1%}   "
          f"({trainer_flops / 1e9:.2f} GFLOP/example: student training + live teacher forward)")
    print(f"speedup_vs_trainer={kit / hf:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
