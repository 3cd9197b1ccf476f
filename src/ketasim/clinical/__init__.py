"""The clinic: rating scales, endpoints and the calibration targets."""
