"""Layer 6: the teaching UI. Slider apps, the results explorer, exercise checks. Never imports the pipeline.

* ``widgets`` -- the ipywidgets slider apps.
* ``explorer`` -- browsing a grid of results.
* ``exercises`` -- a package: one module per notebook with its checks and worked solutions, over ``checking`` (the machinery).
"""
