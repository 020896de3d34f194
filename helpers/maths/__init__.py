"""Layer 1, the bottom: maths and statistics. Pure functions of tensors and numbers; nothing here reads a file.

* ``losses`` -- ERM, LS and KD losses; the one ``Objective`` (alpha weights the soft part; KD's tau^2 on the soft term).
* ``metrics`` -- entropy (natural logs), accuracy, NLL, ECE; ``summarize``.
* ``calibration`` -- temperature scaling.
* ``statistics`` -- paired differences, t intervals, teacher runs as a random effect, directions against a negligible
  band, Holm.
* ``regression`` -- line fits through teacher means: bands, a crossover's Fieller interval, leave-one-out slopes.
* ``hypotheses`` -- the pre-declared predictions every verdict is judged against.
* ``theory`` -- closed forms (optima, the KD = LS identity, entropy of a smoothed target).
* ``toy_training`` -- the demo simulations of notebooks 02-03 (free logits trained by gradient descent).
"""
