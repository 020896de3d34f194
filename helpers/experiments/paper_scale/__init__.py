"""Paper-scale runs: a BERT-size teacher and student on GLUE, trained by the Hugging Face Trainer.

One run trains one student with ERM, LS or KD and appends its row (``tier='paper'``) to
``OUT/results.csv`` in the kit's one schema (``helpers.learning.results``), so the notebooks' tables and
plots read it as they read the CPU path's results::

    python -m helpers.experiments.paper_scale --task sst2 --teacher bert-base-uncased \\
        --student distilbert-base-uncased --method kd --alpha 0.5 --temperature 1 --out build/paper
    accelerate launch --num_processes 4 -m helpers.experiments.paper_scale ...
    torchrun --nproc_per_node 4 -m helpers.experiments.paper_scale ...

``--task`` is GLUE ``sst2``, ``mrpc``, ``qnli`` or ``mnli`` (GLUE's validation split, MNLI's
``validation_matched``, is the test split; a stratified slice of the training split, at most 2000
rows, is the validation split) or a local CSV file with columns ``text,label`` or
``text,text_pair,label``. For KD the teacher is fine-tuned on the task with ERM first and cached
in ``OUT/teachers/`` (its own row has ``role='teacher'``), unless ``--teacher-checkpoint`` names
an already fine-tuned one. ``--batch-size`` is the global batch size (all processes and
accumulation steps together), so a run on N processes follows the same optimisation as on one.
Models are local folders or, when ``KDLS_ALLOW_HUB=1`` is set before ``import helpers``, Hugging
Face hub names; offline, a hub name that is not in the local cache is refused at once.

Modules: ``config`` (the run's options, validated once), ``sources`` (model folders and hub
names), ``data`` (GLUE and CSV tasks, tokenisation), ``run`` (teacher caching and the run),
``cli`` (the command line, generated from the config) and ``demo`` (the tiny offline setting of
notebook 10).
"""
