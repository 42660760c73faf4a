"""Built-in command plugins.

Each module here is a built-in plugin (listed in ``registry.DEFAULT_PLUGINS``)
that adds its commands through the ``register_commands`` hook, exactly as a
third-party plugin would. ``cli.py`` keeps only the core verbs.
"""
