"""Evidence: fitting the model to published aggregate data (see `calibrate`)."""
