"""Reports: self-contained HTML pages with figures (see `validation`)."""
