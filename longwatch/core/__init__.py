"""The preservation engine. No vendor code lives here: plugins reach it through the registry."""
