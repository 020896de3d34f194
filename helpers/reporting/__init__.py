"""Layer 4: reporting. Tables, sentences and figures rendered from result frames.

* ``verdicts`` -- the verdict table: paired comparisons judged against the hypotheses (statistics come from ``maths``).
* ``findings`` -- the sentences about a verdict table: per-comparison verdicts, tallies, claims (a) and (b), what KD
  transfers besides confidence.
* ``inheritance`` -- claim (b) as a line through teacher means: fit, crossover interval, leave-one-out, sentences.
* ``experiment_texts`` -- the sentences of notebooks 08 (sweeps) and 09 (representations, LS teachers, Tf-KD).
* ``plotting`` -- the kit's one style, theory and calibration figures (every function returns its Figure).
* ``result_plots`` -- figures of experiment results (differences, densities, inheritance, sweeps).
* ``overview`` -- notebook 05's tables of the data and models.
"""
