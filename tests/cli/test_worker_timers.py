import datetime as dt
import threading

from django.utils import timezone

from casebridge import cli
from casebridge.tasks.models import Task
from casebridge.tasks.services import task_create


def test_worker_timers_run_the_overdue_check(cm, patient, transactional_db):
    overdue = task_create(
        actor=cm,
        title="Call insurer",
        patient_id=patient.pk,
        priority="urgent",
        due_at=timezone.now() - dt.timedelta(hours=2),
    )
    stop = threading.Event()
    runner = threading.Thread(target=cli._run_timers, args=(stop,))
    runner.start()
    for _ in range(50):
        if Task.objects.get(pk=overdue.pk).escalated_at is not None:
            break
        stop.wait(0.1)
    stop.set()
    runner.join(timeout=10)
    assert Task.objects.get(pk=overdue.pk).escalated_at is not None


def test_every_cli_command_has_help(capsys):
    for command in ["serve", "migrate", "demo", "createuser", "worker"]:
        try:
            cli.main([command, "--help"])
        except SystemExit as exit_:
            assert exit_.code == 0
        assert "usage: casebridge " + command in capsys.readouterr().out
