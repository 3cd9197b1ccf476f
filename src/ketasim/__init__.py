"""ketasim."""
