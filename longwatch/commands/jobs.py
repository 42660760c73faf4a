"""Job commands: ``worker``, ``jobs`` and ``jobs retry`` (a built-in plugin).

Workers run on any number of machines that share the catalog's PostgreSQL and
the storage; on a SQLite catalog jobs run in-process and these commands say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch import console, logs
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import tasks as preservation_tasks
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


@click.command()
@click.option("--queues", default="", metavar="Q1,Q2",
              help="Comma-separated queues to take jobs from (quick, heavy); all by default.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at once by this process.")
@click.option("--until-empty", is_flag=True, hidden=True, help="Stop once the queues are empty (tests).")
@click.pass_obj
def worker(obj: Any, queues: str, concurrency: int, until_empty: bool) -> None:
    """Run queued jobs (ingest, replication, audits, detection) until stopped."""
    logs.configure()  # LONGWATCH_LOG_LEVEL and LONGWATCH_LOG_FORMAT, secrets redacted (docs/operations.md)
    archive = obj.archive()
    names = [q.strip() for q in queues.split(",") if q.strip()]
    if not obj.quiet:
        click.echo(_("Worker on {name}: queues {queues}, concurrency {n}").format(
            name=archive.settings.name, queues=", ".join(names or jobs.QUEUES), n=concurrency), err=True)
    jobs.run_worker(archive, names or None, concurrency, wait=not until_empty)


@click.group(invoke_without_command=True)
@click.option("--state", type=click.Choice(["queued", "running", "failed", "done", "cancelled"]))
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def jobs_group(ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """Queued, running, failed and done jobs, newest first, with the error code of each failure."""
    if ctx.invoked_subcommand is not None:
        return
    archive = ctx.obj.archive()
    if not jobs.queued(archive):
        if as_json:
            console.emit_json({"queued": False, "counts": {}, "jobs": []})
        else:
            click.echo(_("Jobs run in-process on this archive (SQLite catalog); there is no queue."))
        return
    rows = jobs.list_jobs(archive, state, limit)
    if as_json:
        console.emit_json({"queued": True, "counts": jobs.counts(archive), "jobs": [r.to_dict() for r in rows]})
        return
    table = Table(_("id"), _("task"), _("queue"), _("state"), _("attempts"), _("error"), _("arguments"), box=None)
    for r in rows:
        error = f"[{r.code}] {r.message}" if r.code and r.state in ("failed", "queued") else ""
        table.add_row(str(r.id), r.task, r.queue, r.state, str(r.attempts), error,
                      json.dumps(r.args, ensure_ascii=False)[:60])
    console.stdout.print(table)


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@click.pass_obj
def retry_cmd(obj: Any, job_id: int) -> None:
    """Queue a failed job again."""
    obj.account("package:verify")  # the account that asks is the one recorded
    new_id = jobs.retry(obj.archive(), job_id)
    if not obj.quiet:
        click.echo(_("Job {job_id} queued again as job {new_id}").format(job_id=job_id, new_id=new_id))


@jobs_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--camera", default="")
@click.pass_obj
def ingest_cmd(obj: Any, paths: tuple[Path, ...], camera: str) -> None:
    """Queue the ingest of files on shared storage (in-process on a SQLite catalog)."""
    obj.account("upload:write")  # the account that asks is the one recorded
    archive = obj.archive()
    for path in paths:
        result = preservation_tasks.enqueue_ingest(archive, path, camera=camera)
        if not obj.quiet:
            click.echo(f"{path}  {result if isinstance(result, int) else result['package_id']}")


QUEUE_HELP = ("On a PostgreSQL catalog, queue it as a job for `longwatch worker` and return at once "
              "(on SQLite it runs here, as without this option).")


def queue_option(func: Any) -> Any:
    """``--queue``: the long commands (window, redact, export, dispose execute) may run as jobs."""
    return click.option("--queue", "as_job", is_flag=True, help=QUEUE_HELP)(func)


def report_queued(obj: Any, as_json: bool, job_id: int, task: str, target: str, **keys: str) -> None:
    """What a ``--queue`` command prints: the job id and what it will make, as text or stable JSON."""
    if as_json:
        console.emit_json({"queued": True, "job_id": job_id, "task": task, **keys})
    elif not obj.quiet:
        click.echo(_("Job {job_id} queued ({task}: {target}); follow it with `longwatch jobs`").format(
            job_id=job_id, task=task, target=target))


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(worker, "worker")
    cli.add_command(jobs_group, "jobs")
