import datetime as dt

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from casebridge.api.base import actor_of
from casebridge.api.pagination import PatientAuditedPagination
from casebridge.api.types import MAX_ID
from casebridge.kernel import clock
from casebridge.tasks import selectors, services
from casebridge.tasks.domain import TaskStatus
from casebridge.tasks.models import Priority, Task, WorkQueue

router = Router(tags=["tasks"])

STATUS_PATTERN = "^(" + "|".join(s.value for s in TaskStatus) + ")$"
FILTER_STATUS_PATTERN = "^(open|" + "|".join(s.value for s in TaskStatus) + ")$"
NEW_STATUS_PATTERN = "^(draft|requested|ready)$"
PRIORITY_PATTERN = "^(" + "|".join(Priority.values) + ")$"


class TaskOut(Schema):
    id: int
    organization_id: int
    case_id: int | None
    patient_id: int | None
    title: str
    description: str
    kind: str
    status: str
    priority: str
    owner_id: int | None
    queue_id: int | None
    due_at: dt.datetime | None
    overdue: bool
    escalated_at: dt.datetime | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    status_reason: str
    version: int

    @staticmethod
    def resolve_overdue(obj: Task) -> bool:
        return obj.due_at is not None and obj.due_at < clock.now() and obj.status in selectors.OPEN_STATUSES


class TaskFilters(Schema):
    status: str | None = Field(None, pattern=FILTER_STATUS_PATTERN, description='A task status, or "open"')
    owner: str | None = Field(None, pattern="^me$", description='"me": tasks I own')
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    queue_id: int | None = Field(None, ge=1, le=MAX_ID)
    case_id: int | None = Field(None, ge=1, le=MAX_ID)
    priority: str | None = Field(None, pattern=PRIORITY_PATTERN)
    overdue: bool | None = Field(None, description="true: only overdue tasks; false: none overdue")


@router.get("/tasks", response=list[TaskOut])
@paginate(PatientAuditedPagination, audit_action="task.list")
def tasks(request: HttpRequest, filters: Query[TaskFilters]) -> object:
    actor = actor_of(request)
    f = filters.dict()
    owner_id = actor.user_id if f.pop("owner") == "me" else f.pop("owner_id")
    f.pop("owner_id", None)
    is_overdue = f.pop("overdue")
    return selectors.task_list(actor=actor, owner_id=owner_id, is_overdue=is_overdue, **f)


class TaskIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    case_id: int | None = Field(None, ge=1, le=MAX_ID)
    patient_id: int | None = Field(None, ge=1, le=MAX_ID)
    description: str = Field("", max_length=5000)
    kind: str = Field("", max_length=40, pattern="^[a-z0-9_]*$")
    priority: str = Field(Priority.ROUTINE.value, pattern=PRIORITY_PATTERN)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID, description="Defaults to you unless queue_id is given")
    queue_id: int | None = Field(None, ge=1, le=MAX_ID)
    due_at: dt.datetime | None = None
    status: str = Field(TaskStatus.READY.value, pattern=NEW_STATUS_PATTERN)


@router.post("/tasks", response={201: TaskOut})
def task_create(request: HttpRequest, payload: TaskIn) -> Status[Task]:
    return Status(201, services.task_create(actor=actor_of(request), **payload.dict()))


@router.get("/tasks/{task_id}", response=TaskOut)
def task_read(request: HttpRequest, task_id: int = Path(..., ge=1, le=MAX_ID)) -> Task:
    return selectors.task_get(actor=actor_of(request), task_id=task_id)


class TaskPatch(Schema):
    version: int = Field(ge=1, le=MAX_ID, description="The version you read; a stale one gets 409")
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    due_at: dt.datetime | None = Field(None, description="null clears the due time")
    priority: str | None = Field(None, pattern=PRIORITY_PATTERN)


@router.patch("/tasks/{task_id}", response=TaskOut)
def task_update(request: HttpRequest, payload: TaskPatch, task_id: int = Path(..., ge=1, le=MAX_ID)) -> Task:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    return services.task_update(actor=actor_of(request), task_id=task_id, version=version, **changes)


class TaskTransitionIn(Schema):
    status: str = Field(pattern=STATUS_PATTERN)
    reason: str = Field("", max_length=300)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/tasks/{task_id}/transition", response=TaskOut)
def task_transition(request: HttpRequest, payload: TaskTransitionIn, task_id: int = Path(..., ge=1, le=MAX_ID)) -> Task:
    return services.task_transition(
        actor=actor_of(request),
        task_id=task_id,
        to_status=payload.status,
        reason=payload.reason,
        version=payload.version,
    )


class TaskCompleteIn(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID)
    note: str = Field("", max_length=300)


@router.post("/tasks/{task_id}/complete", response=TaskOut)
def task_complete(request: HttpRequest, payload: TaskCompleteIn, task_id: int = Path(..., ge=1, le=MAX_ID)) -> Task:
    return services.task_complete(actor=actor_of(request), task_id=task_id, version=payload.version, note=payload.note)


class ReassignIn(Schema):
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    queue_id: int | None = Field(None, ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/tasks/{task_id}/reassign", response=TaskOut)
def task_reassign(request: HttpRequest, payload: ReassignIn, task_id: int = Path(..., ge=1, le=MAX_ID)) -> Task:
    return services.task_reassign(actor=actor_of(request), task_id=task_id, **payload.dict())


class QueueOut(Schema):
    id: int
    name: str
    member_ids: list[int]
    open_count: int

    @staticmethod
    def resolve_member_ids(obj: WorkQueue) -> list[int]:
        return [m.pk for m in obj.members.all()]

    @staticmethod
    def resolve_open_count(obj: WorkQueue) -> int:
        return getattr(obj, "open_count", 0)


@router.get("/queues", response=list[QueueOut])
def queues(request: HttpRequest) -> list[WorkQueue]:
    return list(selectors.queue_list(actor=actor_of(request)))


class QueueIn(Schema):
    name: str = Field(min_length=1, max_length=100)


@router.post("/queues", response={201: QueueOut})
def queue_create(request: HttpRequest, payload: QueueIn) -> Status[WorkQueue]:
    queue = services.queue_create(actor=actor_of(request), name=payload.name)
    return Status(201, selectors.queue_list(actor=actor_of(request)).get(pk=queue.pk))


class MemberIn(Schema):
    user_id: int = Field(ge=1, le=MAX_ID)


@router.post("/queues/{queue_id}/members", response=QueueOut)
def queue_member_add(request: HttpRequest, payload: MemberIn, queue_id: int = Path(..., ge=1, le=MAX_ID)) -> WorkQueue:
    queue = services.queue_member_add(actor=actor_of(request), queue_id=queue_id, user_id=payload.user_id)
    return selectors.queue_list(actor=actor_of(request)).get(pk=queue.pk)
