"""Scenarios: the definition (:mod:`.definition`), its file format (:mod:`.files`) and the
patient variants (:mod:`.variants`)."""
