"""The web app (``ketasim app``, Shiny for Python): :mod:`.form` turns the page's inputs into a
scenario document, parsed and validated by the same code as a scenario file; :mod:`.page`
lays out the page and runs the simulations off the UI thread."""
