"""Built-in plugins (connectors, detectors), registered exactly as third-party ones are."""
