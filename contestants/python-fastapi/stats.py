"""/compute in pure Python: the figures over x_i = ((i*7919) mod 10007)/10007, i in 0..count."""

import math


def summary(count: int) -> dict:
    xs = [((i * 7919) % 10007) / 10007 for i in range(count)]
    total = math.fsum(xs)
    mean = total / count
    variance = math.fsum((x - mean) ** 2 for x in xs) / count
    return {"sum": total, "mean": mean, "std": math.sqrt(variance), "min": min(xs), "max": max(xs)}
