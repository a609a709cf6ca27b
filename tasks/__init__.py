"""Task definitions: one file per task, each registered with @register_task."""
