"""Importers of ``compare``, one module each, registered with
:func:`~benchmark.analysis.compare.registry.register_importer` (imported on first use; no import list)."""
