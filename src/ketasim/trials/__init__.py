"""Virtual clinical trials: designs, analyses, power and sample size."""
