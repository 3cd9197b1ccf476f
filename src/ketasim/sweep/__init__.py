"""Sweeps: grids of scenarios (dose x schedule x cohort x variant ...) run on Dask."""
