"""Training throughput of one KD fine-tuning job: the kit's loop versus ``transformers.Trainer``, per precision.

The job (identical in both): an L2 student (``build_model("L2", 6)``: the first 2 MiniLM layers)
distilled from an L6 teacher on TREC (6 classes), ``alpha=0.5``, ``tau=1``, batch size 32,
``--steps`` optimizer steps (60), ``max_length=64``, AdamW (lr 1e-4, weight decay 0.01, 10% linear
warm-up then linear decay, gradient clipping at 1.0), in one precision per measurement:

* ``fp32``: no autocast anywhere (the kit's ``TrainConfig(precision="fp32")``; the Trainer with
  ``bf16=False`` and ``ACCELERATE_MIXED_PRECISION`` unset, checked: its accelerator must report
  ``mixed_precision == "no"``). The path most students' laptops take.
* ``bf16``: bf16 autocast (the kit's ``precision="bf16"``; the Trainer's ``bf16=True``, accelerate's
  autocast). Native where the CPU has AMX or AVX512-BF16.

``--precision auto`` (the default) measures the machine's natural precision
(``helpers.infrastructure.precision.resolve_precision``: ``$KDLS_PRECISION``, else bf16 where native, else fp32);
``--precision fp32 bf16`` measures both one after the other, ``--precision both`` does the
same with the natural precision last, and ``--precision native`` (``make bench``) measures the
natural precision, preceded by fp32 where the natural one is bf16 (never emulated bf16).

Choices, made to compare each engine used the way it is meant to be used:

* Kit: ``helpers.learning.finetune.train`` with a KD ``TrainConfig`` whose teacher is an L6 ERM config.
  The teacher is trained beforehand, outside the timed part, on a small budget (``epochs=0.2``,
  through the results cache, so only the first run pays for it): the benchmark measures the
  student's training. The kit reads the teacher's logits from the cache (computed once per
  data set), which is the kit's design. Examples/s is ``record.timings["examples_per_second"]``
  (the training loop only: no data preparation, no evaluation). Batches are length-grouped
  (shuffle, sort within mega-batches of 50 batches) and padded per batch, sliced from tensors
  padded once per run; the student's embedding table is trimmed to the data's token ids while
  it trains (``helpers.learning.models.trim_vocabulary``). No thread or kernel tuning beyond ``--threads``:
  ``helpers.learning.finetune.train`` runs with torch's defaults.
* Trainer: ``helpers.learning.hf_trainer.DistillationTrainer`` with a live L6 teacher (``build_model("L6", 6)``),
  its forward pass inside ``compute_loss`` -- the usual way to distil with the Trainer. Its
  natural CPU settings: ``use_cpu=True``, the default fused AdamW, ``DataCollatorWithPadding``
  (dynamic padding), and ``train_sampling_strategy="group_by_length"`` (mega-batches of 50, the
  same grouping as the kit's, so both pay for the same padding). No evaluation, logging or
  checkpoints. Timed from ``on_train_begin`` to ``on_train_end`` (the training loop only).
* The same tokenized TREC training split (``helpers.learning.finetune.prepare_data``) feeds both, with
  the same number of threads (``--threads``, default ``torch.get_num_threads()``). The teacher's
  weights do not change the cost, so the Trainer's teacher is an untrained L6 of the same shape.

Model-FLOP utilisation (MFU), counted with ``helpers.infrastructure.flops``: ``training_flops(N, T) = 6 N T`` for
the student's training plus ``forward_flops(N_teacher, T) = 2 N T`` for a teacher forward pass, with
N the non-embedding parameters and T the mean number of real (unpadded) tokens per example;
attention-score FLOPs are left out (short sequences). Each engine's MFU counts the FLOPs it
performs (the kit: the student's training only, its teacher logits being cached; the Trainer:
student training + live teacher forward), against a peak measured in the same run by a square
``torch.matmul`` of 2048 x 2048 *in the measured precision* (fp32 peak for fp32 runs, bf16 peak
for bf16 runs), measured before each repeat, best counts.

Run with ``make bench`` or ``python bench/training_throughput.py [--precision fp32|bf16|auto|both|native]
[--repeats N]``. The output ends with a table (precision | kit ex/s | Trainer ex/s | ratio | kit
MFU | Trainer MFU | peak GFLOP/s), and its last line is ``speedup_vs_trainer=X.XX`` (kit examples/s
over Trainer examples/s, for the last precision measured). Timings on a shared machine vary: the
load average is printed with the results. With ``--repeats 2`` or more the two engines alternate
(kit, Trainer, Trainer, kit, ...: a drift in the machine's load hits both alike) and each engine's
best run counts (other work can only slow a run down). On a machine with fewer free cores than
threads, OpenMP's barriers make every multi-threaded run several times slower: compare runs made
at a low load average only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import helpers  # noqa: E402,F401  (offline Hugging Face settings first)
import torch  # noqa: E402
from transformers import DataCollatorWithPadding, PrinterCallback, TrainerCallback, TrainingArguments  # noqa: E402

from helpers.infrastructure.flops import forward_flops, non_embedding_parameters, training_flops  # noqa: E402
from helpers.learning.models import build_model  # noqa: E402
from helpers.infrastructure.precision import bf16_supported, resolve_precision  # noqa: E402
from helpers.learning.hf_trainer import DistillationTrainer  # noqa: E402
from helpers.learning.finetune import TrainConfig, prepare_data, run, seed_everything, train  # noqa: E402

STEPS = 60
BATCH_SIZE = 32
MAX_LENGTH = 64
NUM_LABELS = 6
MATMUL_SIZE = 2048
PRECISION_CHOICES = ("auto", "fp32", "bf16", "both", "native")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def natural_precision() -> str:
    """This machine's precision for the kit: ``$KDLS_PRECISION`` if set, else bf16 where native, else fp32."""
    return resolve_precision("auto")


def precisions_to_measure(requested: list[str]) -> list[str]:
    """The precisions ``--precision`` asks for, in order, each once: ``auto`` is the natural one,
    ``both`` is fp32 and bf16 with the natural one last (its speedup is the script's last line), ``native``
    is the natural one preceded by fp32 where the natural one is bf16 (``make bench``: no emulated bf16)."""
    natural = natural_precision()
    chosen: list[str] = []
    for value in requested:
        if value not in PRECISION_CHOICES:
            raise ValueError(f"precision must be one of {', '.join(PRECISION_CHOICES)}, got {value!r}")
        if value == "both":
            expanded = [p for p in ("fp32", "bf16") if p != natural] + [natural]
        elif value == "native":
            expanded = ["fp32", natural] if natural == "bf16" else [natural]
        elif value == "auto":
            expanded = [natural]
        else:
            expanded = [value]
        chosen += [p for p in expanded if p not in chosen]
    return chosen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line: ``--precision`` (one or more of auto, fp32, bf16, both), ``--repeats``, ``--steps``, ``--threads``."""
    parser = argparse.ArgumentParser(description="Training throughput: the kit's loop vs transformers.Trainer, per precision.")
    parser.add_argument("--precision", nargs="+", default=["auto"], choices=PRECISION_CHOICES, metavar="{auto,fp32,bf16,both,native}",
                        help="precision(s) to measure, one after the other (default: auto, the machine's natural one; "
                             "both: fp32 and bf16, natural last; native: the natural one, after fp32 where it is bf16)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per engine and precision, alternating (best run counts)")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"optimizer steps per run (default {STEPS})")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads for both engines (default: torch.get_num_threads())")
    args = parser.parse_args(argv)
    for name in ("repeats", "steps", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    args.precisions = precisions_to_measure(args.precision)
    if "bf16" in args.precisions and not bf16_supported():
        print("note: this CPU has no native bf16 (AMX / AVX512-BF16): bf16 runs emulated, usually slower than fp32",
              file=sys.stderr)
    return args


def flops_per_example(n_student: int, n_teacher: int, tokens: float) -> dict[str, float]:
    """FLOPs each engine performs per training example (``helpers.infrastructure.flops``' convention): the kit trains the
    student (its teacher logits are cached); the Trainer trains it and runs the live teacher forward."""
    student = training_flops(n_student, tokens)
    return {"kit": student, "trainer": student + forward_flops(n_teacher, tokens)}


def mfu(examples_per_second: float, flops_per_ex: float, peak_flops_per_second: float) -> float:
    """Model-FLOP utilisation: achieved model FLOP/s over the measured matmul peak."""
    return examples_per_second * flops_per_ex / peak_flops_per_second


def matmul_peak_flops(precision: str, size: int = MATMUL_SIZE, seconds: float = 1.5) -> float:
    """Measured FLOP/s of a square ``torch.matmul`` in ``precision`` ('fp32' or 'bf16'): the MFU denominator."""
    dtype = DTYPES[precision]
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(2):
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


def kit_examples_per_second(student: TrainConfig, steps: int) -> float:
    """The kit's loop on the KD config (its teacher must already be in the results cache)."""
    record = train(student, progress=False)
    if record.info["steps"] != steps:
        raise RuntimeError(f"the kit ran {record.info['steps']} steps, not {steps}")
    ran = record.info.get("precision", resolve_precision(student.precision))
    if ran != resolve_precision(student.precision):
        raise RuntimeError(f"the kit ran in {ran}, not {student.precision}")
    return record.timings["examples_per_second"]


@contextlib.contextmanager
def _without_env(name: str):
    """``$name`` unset inside the block (restored after): accelerate reads ``ACCELERATE_MIXED_PRECISION``."""
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved


def trainer_examples_per_second(data, tokenizer, precision: str, steps: int, output_dir: str) -> float:
    """``DistillationTrainer`` with a live L6 teacher on the same data, ``steps`` steps, in ``precision``."""
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids", "label", "length") if c in data.column_names]
    seed_everything(0)
    student = build_model("L2", NUM_LABELS, seed=0)
    teacher = build_model("L6", NUM_LABELS, seed=0)
    with _without_env("ACCELERATE_MIXED_PRECISION"):
        args = TrainingArguments(
            output_dir=output_dir, per_device_train_batch_size=BATCH_SIZE, max_steps=steps, learning_rate=1e-4,
            weight_decay=0.01, warmup_steps=0.1, max_grad_norm=1.0, use_cpu=True, bf16=precision == "bf16", fp16=False,
            train_sampling_strategy="group_by_length", length_column_name="length", remove_unused_columns=False,
            dataloader_pin_memory=False, save_strategy="no", eval_strategy="no", logging_strategy="no",
            report_to="none", disable_tqdm=True, seed=0,
        )
        timer = _LoopTimer()
        trainer = DistillationTrainer(
            model=student, args=args, train_dataset=data.select_columns(columns), data_collator=DataCollatorWithPadding(tokenizer),
            method="kd", alpha=0.5, temperature=1.0, teacher_model=teacher, callbacks=[timer],
        )
        expected = "bf16" if precision == "bf16" else "no"
        actual = str(getattr(trainer.accelerator, "mixed_precision", expected))
        if actual != expected:
            raise RuntimeError(f"the Trainer's accelerator runs mixed_precision={actual!r}, expected {expected!r}")
        trainer.remove_callback(PrinterCallback)  # no log lines
        trainer.train()
    return steps * BATCH_SIZE / timer.seconds


@dataclass
class Measurement:
    """One precision's runs: examples/s per engine (every repeat) and the best matmul peak seen."""

    precision: str
    runs: dict[str, list[float]] = field(default_factory=lambda: {"kit": [], "trainer": []})
    peak: float = 0.0

    @property
    def kit(self) -> float:
        return max(self.runs["kit"])

    @property
    def trainer(self) -> float:
        return max(self.runs["trainer"])

    @property
    def ratio(self) -> float:
        return self.kit / self.trainer


def format_table(measurements: list[Measurement], flops: dict[str, float]) -> str:
    """precision | kit ex/s | Trainer ex/s | ratio | kit MFU | Trainer MFU | peak GFLOP/s."""
    header = ("precision", "kit ex/s", "Trainer ex/s", "ratio", "kit MFU", "Trainer MFU", "peak GFLOP/s")
    rows = [header] + [
        (m.precision, f"{m.kit:.1f}", f"{m.trainer:.1f}", f"{m.ratio:.2f}", f"{mfu(m.kit, flops['kit'], m.peak):.1%}",
         f"{mfu(m.trainer, flops['trainer'], m.peak):.1%}", f"{m.peak / 1e9:.1f}")
        for m in measurements
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    teacher = TrainConfig(task="trec", student="L6", method="erm", epochs=0.2, batch_size=BATCH_SIZE, max_length=MAX_LENGTH)
    print("teacher: L6 ERM, epochs=0.2 (through the results cache; not timed) ...", flush=True)
    run(teacher, progress=False)

    data, tokenizer, _ = prepare_data(teacher)
    train_split = data["train"]
    steps_per_epoch = -(-len(train_split) // BATCH_SIZE)
    tokens = sum(train_split["length"]) / len(train_split)
    n_student = non_embedding_parameters(build_model("L2", NUM_LABELS))
    n_teacher = non_embedding_parameters(build_model("L6", NUM_LABELS))
    flops = flops_per_example(n_student, n_teacher, tokens)

    measurements = []
    with tempfile.TemporaryDirectory() as output_dir:
        for precision in args.precisions:
            student = TrainConfig(task="trec", student="L2", method="kd", alpha=0.5, temperature=1.0, teacher=teacher,
                                  epochs=(args.steps - 0.5) / steps_per_epoch, batch_size=BATCH_SIZE,
                                  max_length=MAX_LENGTH, precision=precision)
            measurement = Measurement(precision)
            for repeat in range(args.repeats):
                measurement.peak = max(measurement.peak, matmul_peak_flops(precision))
                order = ("kit", "trainer") if repeat % 2 == 0 else ("trainer", "kit")
                for engine in order:
                    tag = f"[{precision} {repeat + 1}/{args.repeats}]"
                    if engine == "kit":
                        print(f"{tag} kit loop (helpers.learning.finetune.train) ...", flush=True)
                        measurement.runs["kit"].append(kit_examples_per_second(student, args.steps))
                    else:
                        print(f"{tag} transformers.Trainer (DistillationTrainer, live teacher) ...", flush=True)
                        measurement.runs["trainer"].append(
                            trainer_examples_per_second(train_split, tokenizer, precision, args.steps, output_dir))
            measurements.append(measurement)
    load_after = os.getloadavg()

    print()
    print(f"job: KD L6 -> L2 on TREC, batch {BATCH_SIZE}, {args.steps} steps, max_length {MAX_LENGTH}, "
          f"{torch.get_num_threads()} threads; mean {tokens:.1f} real tokens per example; native bf16: "
          f"{'yes' if bf16_supported() else 'no'}")
    print(f"non-embedding parameters: student {n_student / 1e6:.2f} M, teacher {n_teacher / 1e6:.2f} M; "
          f"GFLOP/example: kit {flops['kit'] / 1e9:.2f} (student training; teacher logits cached), "
          f"Trainer {flops['trainer'] / 1e9:.2f} (student training + live teacher forward)")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} (the machine may be shared)")
    if args.repeats > 1:
        for m in measurements:
            for engine, values in m.runs.items():
                print(f"{m.precision} {engine} runs (examples/s): {', '.join(f'{v:.1f}' for v in values)}; best counts")
    print(f"MFU against a {MATMUL_SIZE}x{MATMUL_SIZE} torch.matmul peak in the same precision, measured in this run:")
    print(format_table(measurements, flops))
    print(f"speedup_vs_trainer={measurements[-1].ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
