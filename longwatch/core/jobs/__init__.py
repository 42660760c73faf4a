"""The job queue only: in-process on SQLite, procrastinate on PostgreSQL (docs/deployment.md).

Features declare their own tasks in their own ``tasks.py`` through the
``register_tasks`` hook; ``queue`` knows tasks by name and nothing else.
"""
