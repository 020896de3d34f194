"""Layer 6: the teaching UI. Slider apps, the results explorer, exercise checks. Never imports the pipeline.

* ``widgets`` -- the ipywidgets slider apps, on ``slider_app`` (redrawing only what moves); ``slider_defaults`` --
  their defaults, ranges and labels.
* ``live_charts`` -- the apps' browser twins (Vega-Lite), over ``vega`` (building blocks), ``live_html`` (the runtime
  and a chart's HTML) and ``widget_state`` (reading an executed notebook's saved widgets).
* ``explorer`` -- browsing a grid of results.
* ``exercises`` -- a package: one module per exercise (found by the package; its solution, grading cases and wrong
  answers in instructor blocks), over ``checking`` (the machinery).
"""
