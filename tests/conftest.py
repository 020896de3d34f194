import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KDLS_PRESET", "smoke")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
