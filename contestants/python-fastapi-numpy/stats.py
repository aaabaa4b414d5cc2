"""/compute with NumPy: the figures over x_i = ((i*7919) mod 10007)/10007, i in 0..count."""

import numpy as np


def summary(count: int) -> dict:
    xs = (np.arange(count, dtype=np.int64) * 7919 % 10007) / 10007
    return {
        "sum": float(xs.sum()),
        "mean": float(xs.mean()),
        "std": float(xs.std()),  # ddof=0: population standard deviation
        "min": float(xs.min()),
        "max": float(xs.max()),
    }
