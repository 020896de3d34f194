"""Layer 4: reporting. Tables, sentences and figures rendered from result frames.

* ``verdicts`` -- verdict tables and the sentences that report them (statistics come from ``maths``).
* ``plotting`` -- the kit's one style, theory and calibration figures (every function returns its Figure).
* ``result_plots`` -- figures of experiment results (differences, densities, inheritance, sweeps).
* ``overview`` -- notebook 05's tables of the data and models.
"""
