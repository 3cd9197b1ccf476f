"""Evidence: fitting the model to published aggregate data (see `calibrate`) and checking it
against them with prediction intervals (see `validate`)."""
