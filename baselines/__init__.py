"""Fusion methods: one file per method, each registered with @register_method."""
