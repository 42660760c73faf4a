"""Records management: retention schedules, legal holds and provable disposition (docs/retention.md).

The one rule everything here serves: **a hold beats every deletion path**.
The modules, each importing only modules listed above it:

- ``actors``: who acts (Actor, roles) and how an act goes into the custody ledger;
- ``schedules``: record classes, rules, periods; reading and validating a schedule;
- ``holds``: placing and releasing legal holds, and where they are enforced;
- ``assignment``: each package's class and due date, recorded as it changes;
- ``deletion``: :func:`~longwatch.core.records.deletion.delete_package`, the one deletion path;
- ``sampling``: the planning sample kept before footage is destroyed;
- ``certificates``: signed destruction certificates, and the tombstone of a disposed package;
- ``dispositions``: what is due, and propose / approve / execute;
- ``purge``: the opt-in storage-full purge.

Nothing is re-exported here: import the module that holds the name.
"""
