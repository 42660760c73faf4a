"""Built-in plugins (detectors), registered exactly as third-party plugins are."""
