"""Baton's framework-free workflow engine: graph, validation, runner, node types, LLM gateway.

Importing this package is cheap: litellm loads only when an LLM is first called.
"""

from orchestrator_core.clock import SystemClock
from orchestrator_core.engine.records import step_to_dict
from orchestrator_core.engine.runner import RunnerServices, advance_run
from orchestrator_core.errors import (
    BatonError,
    ErrorCode,
    ExpressionError,
    LeaseLost,
    NodeError,
    WorkflowInvalid,
)
from orchestrator_core.graph import Edge, Node, Position, Workflow, parse_workflow
from orchestrator_core.llm.router import LiteLLMClient, ModelSpec
from orchestrator_core.nodes.base import Interrupt, NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.trigger_manual import check_trigger_input, trigger_fields
from orchestrator_core.nodes.registry import NodeRegistry, default_registry
from orchestrator_core.ports import (
    JSON,
    Clock,
    EffectRecord,
    EffectStatus,
    EmailMessage,
    Event,
    LLMClient,
    LLMRequest,
    LLMResponse,
    Mailer,
    RunSnapshot,
    RunStatus,
    RunStore,
    StepRecord,
    StepStatus,
)
from orchestrator_core.validation import Issue, validate_or_raise, validate_workflow

__version__ = "0.1.0"

__all__ = [
    "JSON",
    "BatonError",
    "Clock",
    "Edge",
    "EffectRecord",
    "EffectStatus",
    "EmailMessage",
    "ErrorCode",
    "Event",
    "ExpressionError",
    "Interrupt",
    "Issue",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "LeaseLost",
    "LiteLLMClient",
    "Mailer",
    "ModelSpec",
    "Node",
    "NodeContext",
    "NodeError",
    "NodeRegistry",
    "NodeResult",
    "NodeType",
    "Port",
    "Position",
    "RunSnapshot",
    "RunStatus",
    "RunStore",
    "RunnerServices",
    "StepRecord",
    "StepStatus",
    "SystemClock",
    "Workflow",
    "WorkflowInvalid",
    "advance_run",
    "check_trigger_input",
    "default_registry",
    "parse_workflow",
    "step_to_dict",
    "trigger_fields",
    "validate_or_raise",
    "validate_workflow",
]
