"""Layer 6: the teaching UI. Slider apps, the results explorer, exercise checks. Never imports the pipeline.

* ``widgets`` -- the ipywidgets slider apps.
* ``explorer`` -- browsing a grid of results.
* ``exercises`` -- the exercise checks (one table per notebook) and worked solutions.
"""
