"""Layer 7, the top: whole-kit runs and what ships.

* ``reproduce`` -- ``make reproduce``: every notebook, headless, into a report.
* ``notebooks`` -- executing notebooks headless; the copies an installed kit carries.
* ``shipped`` -- ``python -m helpers.shipped``, which writes the shipped results (read back by ``helpers.learning.shipped``).
* ``environment`` -- notebook 00's check of the machine.
* ``grade``, ``assignment`` -- grading a class; nbgrader source notebooks.
* ``slides`` -- the lecture deck (the slider apps as browser charts: ``helpers.teaching.live_charts``).
* ``commands/`` -- the two documented ``python -m`` names that predate the layers (``helpers.paper_scale``,
  ``helpers.shipped``); ``helpers/__init__.py`` puts this folder on the package's search path.
"""
