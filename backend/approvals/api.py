from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.approvals import services
from backend.approvals.examples import example_summary, examples_for_node
from backend.approvals.models import NOTIFY_EVENTS, Approval
from backend.approvals.selectors import (
    approval_counts_for_user,
    approval_filter,
    approval_get_for_user,
    approval_list_for_user,
    approval_review_context,
    approval_stats_for_user,
    approval_summary,
    queue_get_for_user,
    queue_list_for_user,
    queue_summary,
)
from backend.common.api import paginated, request_user
from backend.common.errors import ApiError, Forbidden
from backend.common.schema import (
    PAGE_PARAMETER,
    AnySerializer,
    WorkflowRefSerializer,
    enum_field,
    error_responses,
)
from backend.common.schema import paginated as paginated_of
from backend.workflows.selectors import workflow_get_for_user


def approval_detail(a: Approval) -> dict[str, Any]:
    votes = list(a.votes.select_related("user").order_by("id"))
    run_context = approval_review_context(a)
    fields_schema = run_context.pop("fields_schema")
    return {
        **approval_summary(a),
        "run_context": run_context,
        "fields_schema": fields_schema,
        "instructions": a.instructions,
        "context": a.context,
        "fields": a.fields,
        "payload_hash": a.payload_hash,
        "decision": {"approved": "approve", "rejected": "reject", "changes_requested": "request_changes"}.get(
            a.status
        ),
        "comment": a.comment,
        "edited": a.edited,
        "approvals_count": sum(1 for v in votes if v.decision == "approve"),
        "allow_starter": a.allow_starter,
        "started_by": a.run.started_by.username if a.run.started_by else None,
        "on_due": a.on_due if a.due_at or a.due_minutes else None,
        "escalate_to": a.escalate_to or None,
        "escalated_at": a.escalated_at.isoformat() if a.escalated_at else None,
        "votes": [
            {
                "user": v.user.username,
                "decision": v.decision,
                "edited": v.edited,
                "comment": v.comment,
                "created_at": v.created_at.isoformat(),
            }
            for v in votes
        ],
    }


# --- Response shapes (documentation only: the views return the dicts built above) -------------


class ApprovalSummarySerializer(AnySerializer):
    id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    workflow = WorkflowRefSerializer()
    node_id = serializers.CharField()
    queue = serializers.CharField(help_text="Name of the review queue.")
    title = serializers.CharField()
    status = enum_field("ApprovalStatusEnum", Approval.Status.values)
    claimed_by = serializers.CharField(allow_null=True, help_text="Username of the reviewer who claimed it.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(allow_null=True, help_text="Username.")
    approvals_required = serializers.IntegerField(help_text="Distinct approving votes needed.")
    due_at = serializers.DateTimeField(allow_null=True, help_text="Deadline, if any.")


class ApprovalVoteSerializer(AnySerializer):
    user = serializers.CharField(help_text="Username.")
    decision = serializers.ChoiceField(choices=["approve", "reject", "request_changes"])
    edited = serializers.DictField(child=serializers.CharField(), allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ApprovalRunStepSerializer(AnySerializer):
    node_id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.CharField(help_text="Node type key, e.g. `llm.prompt`.")
    status = serializers.CharField()
    summary = serializers.CharField(allow_blank=True, help_text="The step's output, cut to 400 characters.")
    model = serializers.CharField(allow_null=True)
    cost_usd = serializers.FloatField(allow_null=True)
    tokens_in = serializers.IntegerField(allow_null=True)
    tokens_out = serializers.IntegerField(allow_null=True)


class ApprovalPassageSerializer(AnySerializer):
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="`source`, `url`, `title` or `id` of the item, else the node id."
    )
    text = serializers.CharField()
    score = serializers.FloatField(allow_null=True)


class ApprovalRunContextSerializer(AnySerializer):
    trigger = serializers.JSONField(help_text="The run's trigger input.")
    steps = ApprovalRunStepSerializer(many=True, help_text="Earlier steps of the run, in start order.")
    passages = ApprovalPassageSerializer(
        many=True, help_text="Items of upstream outputs named `passages` or `documents` (at most 20)."
    )
    cost_usd = serializers.FloatField(help_text="The run's cost so far.")


class ApprovalCountsFiguresSerializer(AnySerializer):
    pending = serializers.IntegerField()
    due_soon = serializers.IntegerField(help_text="Pending, due within BATON_DUE_SOON_HOURS or overdue.")
    mine = serializers.IntegerField(help_text="Pending and claimed by you.")


class ApprovalQueueCountsSerializer(ApprovalCountsFiguresSerializer):
    queue = serializers.CharField()


class ApprovalCountsSerializer(ApprovalCountsFiguresSerializer):
    queues = ApprovalQueueCountsSerializer(many=True, help_text="Per queue you may see.")


class ApprovalPageSerializer(paginated_of(ApprovalSummarySerializer)):  # type: ignore[misc]
    counts = ApprovalCountsSerializer(help_text="Unfiltered pending counts of the items you may see.")


class ApprovalDetailSerializer(ApprovalSummarySerializer):
    instructions = serializers.CharField(allow_blank=True, help_text="Markdown.")
    context = serializers.DictField(child=serializers.CharField(), help_text="Read-only facts, label → text.")  # type: ignore[assignment]
    fields = serializers.DictField(child=serializers.CharField(), help_text="Editable fields, name → text.")  # type: ignore[assignment]
    payload_hash = serializers.CharField(help_text="sha256 hex; send it back with the decision.")
    decision = serializers.ChoiceField(choices=["approve", "reject", "request_changes"], allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    edited = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The fields changed (approvals: every approver's edits, in vote order, the last winning).",
    )
    approvals_count = serializers.IntegerField(help_text="Approving votes so far.")
    allow_starter = serializers.BooleanField(
        help_text="False = four eyes: the run's starter may neither claim nor decide."
    )
    started_by = serializers.CharField(allow_null=True, help_text="Username of the run's starter.")
    on_due = serializers.ChoiceField(choices=["timeout", "escalate"], allow_null=True)
    escalate_to = serializers.CharField(allow_null=True, help_text="Queue name.")
    escalated_at = serializers.DateTimeField(allow_null=True)
    votes = ApprovalVoteSerializer(many=True)
    run_context = ApprovalRunContextSerializer(help_text="What produced the draft.")
    fields_schema = serializers.JSONField(
        allow_null=True,
        help_text="The node's JSON Schema of the editable fields (object with `properties`), or null: "
        "every field is free text.",
    )


_APPROVAL_CONFLICTS = "Already decided (`APPROVAL_DECIDED`) or claimed by someone else (`APPROVAL_CLAIMED`)."


class ApprovalListApi(APIView):
    @extend_schema(
        summary="List review items",
        description="Only an admin or a member of the item's queue sees it. Newest first.",
        operation_id="approvals_list",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=["pending", "decided", "all", *Approval.Status.values[1:]],
                default="pending",
                description="`decided` = approved, rejected, changes requested or timed out; `all` = no "
                "filter; else one status.",
            ),
            OpenApiParameter("queue", OpenApiTypes.STR, description="Only items of this queue (name)."),
            OpenApiParameter(
                "due_soon",
                OpenApiTypes.BOOL,
                description="`1`: only pending items due within BATON_DUE_SOON_HOURS (24) or overdue.",
            ),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="`1`: only items claimed by you."),
            PAGE_PARAMETER,
        ],
        responses={200: ApprovalPageSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        params = request.query_params
        qs = approval_filter(
            approval_list_for_user(user=user),
            user=user,
            status=params.get("status") or "pending",
            queue=params.get("queue") or None,
            due_soon=_flag(params, "due_soon"),
            mine=_flag(params, "mine"),
        )
        response = paginated(self, request, qs, approval_summary)
        response.data["counts"] = approval_counts_for_user(user=user)
        return response


def _flag(params: Any, name: str) -> bool:
    value = (params.get(name) or "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ApiError(f"'{name}' must be 1 or 0.", code="BAD_REQUEST")


class ApprovalDetailApi(APIView):
    @extend_schema(
        summary="Get a review item",
        operation_id="approvals_retrieve",
        responses={200: ApprovalDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, approval_id: int) -> Response:
        return Response(
            approval_detail(approval_get_for_user(approval_id=approval_id, user=request_user(request)))
        )


class ApprovalClaimApi(APIView):
    @extend_schema(
        summary="Claim a review item",
        request=None,
        responses={
            200: ApprovalDetailSerializer,
            **error_responses(
                401,
                403,
                404,
                409,
                e403="The run's starter may not review a four-eyes item (`FOUR_EYES`).",
                e409=_APPROVAL_CONFLICTS,
            ),
        },
    )
    def post(self, request: Request, approval_id: int) -> Response:
        user = request_user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        return Response(approval_detail(services.approval_claim(approval=approval, user=user)))


class ApprovalReleaseApi(APIView):
    @extend_schema(
        summary="Release a claimed review item",
        request=None,
        responses={200: ApprovalDetailSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, approval_id: int) -> Response:
        user = request_user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        return Response(approval_detail(services.approval_release(approval=approval, user=user)))


class ApprovalDecisionApi(APIView):
    @extend_schema_serializer(component_name="ApprovalDecision")
    class InputSerializer(AnySerializer):
        decision = serializers.ChoiceField(choices=["approve", "reject", "request_changes"])
        edited = serializers.JSONField(required=False, allow_null=True)
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        payload_hash = serializers.CharField(max_length=64)

    @extend_schema(
        summary="Decide a review item",
        description=(
            "Vote once: `approve`, `reject` or `request_changes` (needs a `comment`). One approval "
            "resolves an item unless it needs `approvals_required` distinct approvers: it then stays "
            "`pending` until enough approve, and the approvers' `edited` fields are merged in vote "
            "order (the last approver's value wins). One rejection rejects; a change request resolves "
            "it as `changes_requested` (the node fires its `changes` port). The run resumes once. "
            "`payload_hash` must be the one you saw (409 `PAYLOAD_CHANGED` otherwise); `edited` may "
            "only change the item's `fields`."
        ),
        request=InputSerializer,
        responses={
            200: ApprovalDetailSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                e403="The run's starter may not decide a four-eyes item (`FOUR_EYES`).",
                e409=f"{_APPROVAL_CONFLICTS} The item changed (`PAYLOAD_CHANGED`); you already voted "
                "(`ALREADY_VOTED`).",
            ),
        },
    )
    def post(self, request: Request, approval_id: int) -> Response:
        user = request_user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = services.approval_decide(
            approval=approval,
            user=user,
            decision=data.validated_data["decision"],
            payload_hash_seen=data.validated_data["payload_hash"],
            edited=data.validated_data.get("edited"),
            comment=data.validated_data["comment"],
        )
        return Response(approval_detail(decided))


# --- Statistics ---------------------------------------------------------------------------------


class ApprovalFiguresSerializer(AnySerializer):
    decided = serializers.IntegerField(help_text="Approved, rejected or changes requested.")
    approved = serializers.IntegerField()
    approval_rate = serializers.FloatField(allow_null=True, help_text="approved / decided.")
    edit_rate = serializers.FloatField(allow_null=True, help_text="Approved with edits / approved.")
    median_seconds = serializers.FloatField(allow_null=True, help_text="Median time to decision.")
    p90_seconds = serializers.FloatField(allow_null=True, help_text="Nearest-rank p90 time to decision.")


class ApprovalQueueStatsSerializer(ApprovalFiguresSerializer):
    queue = serializers.CharField()


class ApprovalWorkflowStatsSerializer(ApprovalFiguresSerializer):
    workflow = WorkflowRefSerializer()


class ApprovalStatsSerializer(AnySerializer):
    days = serializers.IntegerField()
    queues = ApprovalQueueStatsSerializer(many=True)
    workflows = ApprovalWorkflowStatsSerializer(many=True)


class ApprovalStatsApi(APIView):
    @extend_schema(
        summary="Review statistics",
        description=(
            "Human decisions of the last `days` days on the items you may see, per queue and per "
            "workflow. Time to decision = decided_at - created_at."
        ),
        operation_id="approvals_stats",
        parameters=[
            OpenApiParameter("queue", OpenApiTypes.STR, description="Only this queue (name)."),
            OpenApiParameter("workflow", OpenApiTypes.INT, description="Only this workflow (id)."),
            OpenApiParameter("days", OpenApiTypes.INT, default=30, description="1..365."),
        ],
        responses={200: ApprovalStatsSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            days = int(params.get("days") or 30)
            workflow = int(params["workflow"]) if params.get("workflow") else None
        except ValueError:
            raise ApiError("'days' and 'workflow' must be integers.", code="BAD_REQUEST") from None
        if not 1 <= days <= 365:
            raise ApiError("'days' must be between 1 and 365.", code="BAD_REQUEST")
        return Response(
            approval_stats_for_user(
                user=request_user(request), days=days, queue=params.get("queue") or None, workflow_id=workflow
            )
        )


# --- Queues -------------------------------------------------------------------------------------


_NOTIFY_EVENTS_HELP = "When to notify: `created` and/or `escalated` (default both)."


class QueueSerializer(AnySerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    members = serializers.ListField(child=serializers.CharField(), help_text="Usernames.")
    pending = serializers.IntegerField(help_text="Pending items in the queue.")
    notify_email_connector = serializers.CharField(
        allow_null=True, help_text="An smtp connector: e-mail the members (null: no e-mail)."
    )
    notify_webhook_connector = serializers.CharField(
        allow_null=True, help_text="An http or slack connector to post a JSON notification to."
    )
    notify_events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(NOTIFY_EVENTS)), help_text=_NOTIFY_EVENTS_HELP
    )


@extend_schema_serializer(component_name="QueueInput")
class QueueInputSerializer(AnySerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    members = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, default=list, max_length=1000
    )
    notify_email_connector = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True, help_text="Blank or null: off."
    )
    notify_webhook_connector = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True, help_text="Blank or null: off."
    )
    notify_events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(NOTIFY_EVENTS)),
        required=False,
        max_length=len(NOTIFY_EVENTS),
        help_text=_NOTIFY_EVENTS_HELP,
    )


_QUEUE_KEYS = (
    "name",
    "description",
    "members",
    "notify_email_connector",
    "notify_webhook_connector",
    "notify_events",
)


def _queue_values(validated: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in validated.items() if k in _QUEUE_KEYS}
    for key in ("notify_email_connector", "notify_webhook_connector"):
        if key in values and values[key] is None:
            values[key] = ""  # null switches the channel off, like blank
    return values


def _queue_out(queue_id: int, user: User) -> dict[str, Any]:
    return queue_summary(queue_get_for_user(queue_id=queue_id, user=user))


def _admin_queue(request: Request, queue_id: int) -> tuple[User, Any]:
    user = request_user(request)
    if not user.is_admin:
        raise Forbidden("Only an admin may manage queues.")
    return user, queue_get_for_user(queue_id=queue_id, user=user)


class QueueListApi(APIView):
    @extend_schema(
        summary="List review queues",
        description="Admins see every queue; everyone else the queues they belong to.",
        operation_id="queues_list",
        responses={200: QueueSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response([queue_summary(q) for q in queue_list_for_user(user=request_user(request))])

    @extend_schema(
        summary="Create a review queue",
        description="Admins only. `members`: usernames (400 for unknown ones).",
        request=QueueInputSerializer,
        responses={
            201: QueueSerializer,
            **error_responses(400, 401, 403, 409, e409="The name is taken (`QUEUE_EXISTS`)."),
        },
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        if not user.is_admin:
            raise Forbidden("Only an admin may manage queues.")
        data = QueueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queue = services.queue_create(user=user, **_queue_values(data.validated_data))
        return Response(_queue_out(queue.id, user), status=201)


class QueueDetailApi(APIView):
    @extend_schema(
        summary="Update a review queue",
        description="Admins only. `members` replaces the member list.",
        request=QueueInputSerializer(partial=True),
        responses={
            200: QueueSerializer,
            **error_responses(400, 401, 403, 404, 409, e409="The name is taken (`QUEUE_EXISTS`)."),
        },
    )
    def patch(self, request: Request, queue_id: int) -> Response:
        user, queue = _admin_queue(request, queue_id)
        data = QueueInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.queue_update(user=user, queue=queue, **_queue_values(data.validated_data))
        return Response(_queue_out(queue.id, user))

    @extend_schema(
        summary="Delete a review queue",
        description="Admins only; 409 `QUEUE_IN_USE` while any approval (pending or decided) uses it.",
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(401, 403, 404, 409, e409="Items use the queue (`QUEUE_IN_USE`)."),
        },
    )
    def delete(self, request: Request, queue_id: int) -> Response:
        user, queue = _admin_queue(request, queue_id)
        services.queue_delete(user=user, queue=queue)
        return Response(status=204)


# --- Examples -----------------------------------------------------------------------------------


class ReviewExampleSerializer(AnySerializer):
    id = serializers.IntegerField()
    approval_id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    approval_node_id = serializers.CharField(help_text="The human.approval node that asked.")
    llm_node_id = serializers.CharField(help_text="The llm node that wrote the draft.")
    draft = serializers.DictField(
        child=serializers.CharField(), help_text="The fields as the LLM wrote them."
    )
    edited = serializers.DictField(
        child=serializers.CharField(), allow_null=True, help_text="The fields the reviewers changed."
    )
    decision = enum_field("ReviewExampleDecisionEnum", ["approved", "rejected", "changes_requested"])
    comment = serializers.CharField(allow_blank=True)
    reviewer = serializers.CharField(allow_null=True, help_text="Username of the deciding reviewer.")
    decided_at = serializers.DateTimeField()


class NodeExamplesApi(APIView):
    @extend_schema(
        summary="Reviewed drafts of an LLM node",
        description=(
            "Every decided review of a draft this node wrote: the draft, the reviewers' edits, the "
            "decision and comment. Newest first. For builders who may edit the workflow."
        ),
        operation_id="workflow_node_examples",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(ReviewExampleSerializer), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, workflow_id: int, node_id: str) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request), need="edit")
        return paginated(
            self, request, examples_for_node(workflow=workflow, node_id=node_id), example_summary
        )
