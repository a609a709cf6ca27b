"""Importers of ``compare``, one module each, registered with
:func:`~benchmark.compare.registry.register_importer` (imported on first use; no import list)."""
