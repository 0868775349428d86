"""Worklist (the home page), caseload for supervisors, and the task buttons and forms. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from casebridge.accounts.permissions import can, require
from casebridge.accounts.selectors import organization_users
from casebridge.audit.recorder import audit_record
from casebridge.cases.selectors import case_owned_get
from casebridge.cases.services import case_assign
from casebridge.kernel import clock
from casebridge.kernel.errors import DomainError, NotFound, PermissionDenied
from casebridge.kernel.numbers import whole_number
from casebridge.tasks import selectors, services
from casebridge.tasks.domain import TaskStatus
from casebridge.tasks.forms import QueueForm, QueueMemberForm, ReassignForm, TaskForm, parse_owner
from casebridge.web.errors import actor_required, apply_errors
from casebridge.web.navigation import next_url


def _refused(request: HttpRequest, exc: DomainError) -> None:
    """Show a refused action as a message; not-found and forbidden stay real 404/403 answers."""
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, exc.detail)


@actor_required
def worklist_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not can(actor, "case.view"):
        # Auditors and administrators have no clinical worklist: send them to their own home.
        if can(actor, "audit.view"):
            return redirect("audit_log")
        if can(actor, "user.manage"):
            return redirect("admin_users")
        require(actor, "case.view")
    now = clock.now()
    tasks = selectors.my_tasks(actor=actor)
    groups = selectors.group_by_due(tasks, now)
    total = selectors.my_task_count(actor=actor) if len(tasks) >= selectors.WORKLIST_LIMIT else len(tasks)
    cases = selectors.my_cases(actor=actor)
    queues = selectors.my_queues(actor=actor)
    # One event per page view: the worklist lists the user's own work, not a search of patients.
    audit_record(
        actor=actor,
        action="worklist.view",
        detail={"tasks": len(tasks), "cases": len(cases), "queues": len(queues)},
    )
    return render(
        request,
        "tasks/worklist.html",
        {
            "groups": groups,
            "task_total": total,
            "task_shown": len(tasks),
            "my_cases": cases,
            "queues": queues,
            "now": now,
            "can_change": can(actor, "task.change"),
            "IN_PROGRESS": TaskStatus.IN_PROGRESS.value,
        },
    )


@require_POST
@actor_required
def task_start_view(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = services.task_transition(
            actor=request.actor,  # type: ignore[attr-defined]
            task_id=task_id,
            to_status=TaskStatus.IN_PROGRESS,
        )
        messages.success(request, f"Started: {task.title}.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect(next_url(request, reverse("worklist")))


@require_POST
@actor_required
def task_complete_view(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = services.task_complete(actor=request.actor, task_id=task_id)  # type: ignore[attr-defined]
        messages.success(request, f"Done: {task.title}.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect(next_url(request, reverse("worklist")))


@require_POST
@actor_required
def task_claim_view(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = services.task_claim(actor=request.actor, task_id=task_id)  # type: ignore[attr-defined]
        messages.success(request, f"Taken: {task.title} is now on your list.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect(next_url(request, reverse("worklist")))


@actor_required
def task_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case page posts its "Add task" form here; errors come back on this page, next to their fields."""
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "task.change")
    case = case_owned_get(actor=actor, case_id=case_id)
    users = organization_users(actor=actor)
    queues = selectors.queue_list(actor=actor)
    form = TaskForm(request.POST or None, users=users, queues=queues, initial={"owner": f"u{actor.user_id}"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner_id, queue_id = parse_owner(data["owner"])
        try:
            task = services.task_create(
                actor=actor,
                title=data["title"],
                case_id=case.pk,
                priority=data["priority"],
                owner_id=owner_id,
                queue_id=queue_id,
                due_at=data["due_at"],
            )
        except DomainError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, f"Task added: {task.title}.")
            return redirect(reverse("case_detail", args=[case.pk]) + "#tasks")
    return render(request, "tasks/task_form.html", {"form": form, "case": case}, status=422 if form.errors else 200)


@require_POST
@actor_required
def task_reassign_view(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "task.reassign")
    form = ReassignForm(request.POST, users=organization_users(actor=actor), queues=selectors.queue_list(actor=actor))
    if form.is_valid():
        owner_id, queue_id = parse_owner(form.cleaned_data["owner"])
        try:
            task = services.task_reassign(actor=actor, task_id=task_id, owner_id=owner_id, queue_id=queue_id)
            messages.success(request, f"Task reassigned: {task.title}.")
        except DomainError as exc:
            _refused(request, exc)
    else:
        messages.error(request, "Choose a person or a queue to reassign the task to.")
    return redirect(next_url(request, reverse("caseload")))


@require_POST
@actor_required
def caseload_case_assign_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "case.assign")
    user_id = whole_number(request.POST.get("user_id", ""))
    if user_id is None:
        messages.error(request, "Choose a case manager to reassign the case to.")
    else:
        try:
            case = case_assign(actor=actor, case_id=case_id, user_id=user_id)
            messages.success(request, f"Case #{case.pk} reassigned to {case.assigned_to}.")
        except DomainError as exc:
            _refused(request, exc)
    return redirect(next_url(request, reverse("caseload")))


@actor_required
def caseload_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "caseload.view")
    rows = selectors.caseload(actor=actor)
    scale = max([max(r.open_cases, r.open_tasks) for r in rows] + [1])
    selected = None
    raw = request.GET.get("manager", "")
    if raw:
        manager_id = whole_number(raw)
        selected = next((r for r in rows if r.user.pk == manager_id), None)
        if selected is None:
            raise NotFound(f"No case manager {raw[:40]} here.")
    staff = selectors.caseload_staff(actor=actor)
    queues = list(selectors.queue_list(actor=actor))
    member_cases = list(selectors.member_cases(actor=actor, user_id=selected.user.pk)) if selected else []
    context = {
        "rows": rows,
        "scale": scale,
        "chart_rows": [
            (
                r,
                round(100 * r.open_cases / scale),
                round(100 * (r.open_tasks - r.overdue_tasks) / scale),
                round(100 * r.overdue_tasks / scale),
            )
            for r in rows
        ],
        "unassigned": selectors.unassigned_case_count(actor=actor),
        "selected": selected,
        "member_cases": member_cases,
        "member_tasks": selectors.member_tasks(actor=actor, user_id=selected.user.pk) if selected else [],
        "escalated": selectors.escalated_tasks(actor=actor),
        "now": clock.now(),
        "staff": staff,
        "queues": queues,
        "reassign_form": ReassignForm(users=staff, queues=queues),
        "can_assign_cases": can(actor, "case.assign"),
        "can_reassign": can(actor, "task.reassign"),
        "queue_form": QueueForm(),
        "member_form": QueueMemberForm(users=organization_users(actor=actor)),
    }
    audit_record(
        actor=actor,
        action="caseload.view",
        detail={"manager": selected.user.pk if selected else None, "cases": len(member_cases)},
    )
    return render(request, "tasks/caseload.html", context)


@require_POST
@actor_required
def queue_create_view(request: HttpRequest) -> HttpResponse:
    form = QueueForm(request.POST)
    if form.is_valid():
        try:
            queue = services.queue_create(actor=request.actor, name=form.cleaned_data["name"])  # type: ignore[attr-defined]
            messages.success(request, f"Queue {queue.name} created.")
        except DomainError as exc:
            _refused(request, exc)
    else:
        messages.error(request, "Queue name: " + " ".join(str(m) for m in form.errors.get("name", ["is invalid"])))
    return redirect(reverse("caseload") + "#queues")


@require_POST
@actor_required
def queue_member_add_view(request: HttpRequest, queue_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    user_id = whole_number(request.POST.get("user_id", ""))
    if user_id is None:
        messages.error(request, "Choose a member to add.")
    else:
        try:
            queue = services.queue_member_add(actor=actor, queue_id=queue_id, user_id=user_id)
            messages.success(request, f"Member added to {queue.name}.")
        except DomainError as exc:
            _refused(request, exc)
    return redirect(reverse("caseload") + "#queues")
