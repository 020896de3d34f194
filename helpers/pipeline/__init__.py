"""Layer 7, the top: whole-kit runs and what ships.

* ``reproduce`` -- ``make reproduce``: every notebook, headless, into a report.
* ``notebooks`` -- executing notebooks headless; the copies an installed kit carries.
* ``shipped`` -- the command that writes the shipped results (read back by ``helpers.learning.shipped``).
* ``environment`` -- notebook 00's check of the machine.
* ``grade``, ``assignment`` -- grading a class; nbgrader source notebooks.
* ``slides`` -- the lecture deck (the slider apps as browser charts: ``helpers.teaching.live_charts``).

The commands here (``reproduce``, ``notebooks``, ``shipped``, ``grade``, ``assignment``, ``slides``) each have a
``main``: ``python -m helpers.pipeline.<module>``, or the console script ``kdls-<module>`` (pyproject.toml).
"""
