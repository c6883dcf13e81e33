"""Run a task worker for whichever queue TASKS configures: the database queue or Redis."""

from __future__ import annotations

from argparse import ArgumentParser, BooleanOptionalAction
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

#: The job class that runs django-tasks tasks under RQ (django-tasks-rq).
RQ_JOB_CLASS = "django_tasks_rq.backend.Job"


class Command(BaseCommand):
    help = (
        "Run a background task worker (health checks, revoke retries, emails). Uses django-tasks-db's "
        "db_worker for the database queue and django-rq's rqworker for Redis, as TASKS_BACKEND says."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--burst", action="store_true", help="Run what is queued, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Database queue: seconds between polls while the queue is empty (default 1).",
        )
        parser.add_argument(
            "--reload",
            action=BooleanOptionalAction,
            default=settings.DEBUG,
            help="Database queue: restart on code changes (default: DEBUG).",
        )

    def handle(self, *args: Any, burst: bool, interval: float, reload: bool, **options: Any) -> None:
        backend = settings.TASKS["default"]["BACKEND"]
        verbosity = options["verbosity"]
        if backend == settings.DATABASE_TASKS_BACKEND:
            call_command(
                "db_worker",
                queue_name="*",
                batch=burst,
                interval=interval,
                reload=reload and not burst,
                verbosity=verbosity,
            )
        elif backend == settings.REDIS_TASKS_BACKEND:
            call_command(
                "rqworker",
                *settings.RQ_QUEUES,
                burst=burst,
                job_class=RQ_JOB_CLASS,
                with_scheduler=True,
                verbosity=verbosity,
            )
        else:
            raise CommandError(
                f"TASKS_BACKEND is {backend}, which runs tasks without a worker. Use "
                f"{settings.DATABASE_TASKS_BACKEND} (the default) or {settings.REDIS_TASKS_BACKEND}."
            )
