"""Graph rules for a workflow, shared by the API (save, publish, run) and the editor.

`validate_workflow` never raises on bad input: it returns every problem it finds as an
`Issue`, in a deterministic order (document order within each check).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator_core.errors import ErrorCode, WorkflowInvalid
from orchestrator_core.expressions import check_expression, check_template
from orchestrator_core.graph import Edge, Node, Workflow, parse_workflow
from orchestrator_core.nodes.base import NodeType
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.nodes.settings import ERROR_PORT, parse_settings


@dataclass(frozen=True)
class Issue:
    """One validation problem."""

    code: ErrorCode
    message: str
    node_id: str | None = None
    edge_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "message": self.message,
            "node_id": self.node_id,
            "edge_id": self.edge_id,
        }


def _issues_from_invalid(exc: WorkflowInvalid) -> list[Issue]:
    details = exc.details
    if not details or isinstance(details, Mapping):
        return [Issue(exc.code, exc.message)]
    out = []
    for d in details:
        try:
            code = ErrorCode(d.get("code", exc.code))
        except ValueError:
            code = exc.code
        out.append(
            Issue(
                code, str(d.get("message", exc.message)), d.get("node_id") or None, d.get("edge_id") or None
            )
        )
    return out


def _ui_widget(model: type[BaseModel], name: str) -> str | None:
    info = model.model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    if isinstance(extra, dict):
        ui = extra.get("ui")
        if isinstance(ui, dict):
            widget = ui.get("widget")
            return widget if isinstance(widget, str) else None
    return None


def _template_issues(node: Node, value: Any, path: str, out: list[Issue]) -> None:
    if isinstance(value, str):
        if "{{" in value:
            for position, message in check_template(value):
                out.append(
                    Issue(
                        ErrorCode.EXPRESSION_INVALID,
                        f"Node '{node.id}', field '{path}': invalid expression "
                        f"at position {position}: {message}",
                        node.id,
                    )
                )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _template_issues(node, item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _template_issues(node, item, f"{path}[{i}]", out)


def _config_issues(node: Node, node_type: NodeType, out: list[Issue]) -> None:
    model = node_type.config_model
    try:
        model.model_validate(dict(node.config))
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "(config)"
            out.append(
                Issue(
                    ErrorCode.NODE_CONFIG_INVALID, f"Node '{node.id}', field '{loc}': {err['msg']}", node.id
                )
            )
    for key, value in node.config.items():
        if _ui_widget(model, str(key)) == "expression" and isinstance(value, str):
            problem = check_expression(value)
            if problem is not None:
                out.append(
                    Issue(
                        ErrorCode.EXPRESSION_INVALID,
                        f"Node '{node.id}', field '{key}': invalid expression at {problem}",
                        node.id,
                    )
                )
        else:
            _template_issues(node, value, str(key), out)


def _settings_issues(node: Node, out: list[Issue]) -> str:
    """Check the node's ``settings``; return its ``on_error`` ("fail" when the settings are bad)."""
    try:
        return parse_settings(node.settings).on_error
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "(settings)"
            out.append(
                Issue(
                    ErrorCode.NODE_CONFIG_INVALID,
                    f"Node '{node.id}', setting '{loc}': {err['msg']}",
                    node.id,
                )
            )
        return "fail"


def _cycles(node_ids: list[str], successors: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that form a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in node_ids:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = successors.get(v, [])
            recursed = False
            while i < len(succ):
                w = succ[i]
                i += 1
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recursed = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recursed:
                continue
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1 or v in successors.get(v, []):
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return sorted(found)


def validate_workflow(doc_or_workflow: Mapping[str, Any] | Workflow, registry: NodeRegistry) -> list[Issue]:
    """Every problem with a workflow, or ``[]`` when it can run.

    Args:
        doc_or_workflow: a workflow document (parsed here) or a parsed `Workflow`.
        registry: the node types to check against.

    Returns:
        Issues in a deterministic order.
    """
    if isinstance(doc_or_workflow, Workflow):
        workflow = doc_or_workflow
    else:
        try:
            workflow = parse_workflow(doc_or_workflow)
        except WorkflowInvalid as e:
            return _issues_from_invalid(e)

    issues: list[Issue] = []
    nodes: dict[str, Node] = {}
    for node in workflow.nodes:
        if node.id in nodes:
            issues.append(
                Issue(ErrorCode.NODE_ID_DUPLICATE, f"Node id '{node.id}' is used more than once.", node.id)
            )
            continue
        nodes[node.id] = node

    types: dict[str, NodeType] = {}
    on_error: dict[str, str] = {}
    for node in nodes.values():
        on_error[node.id] = _settings_issues(node, issues)
        try:
            node_type = registry.get(node.type, node.type_version)
        except KeyError:
            issues.append(
                Issue(
                    ErrorCode.NODE_TYPE_UNKNOWN,
                    f"Node '{node.id}': unknown node type '{node.type}' version {node.type_version}.",
                    node.id,
                )
            )
            continue
        types[node.id] = node_type
        _config_issues(node, node_type, issues)

    good_edges: list[Edge] = []
    seen_ids: set[str] = set()
    seen_links: set[tuple[str, str, str, str]] = set()
    for edge in workflow.edges:
        if edge.id in seen_ids:
            issues.append(
                Issue(ErrorCode.EDGE_DUPLICATE, f"Edge id '{edge.id}' is used more than once.", None, edge.id)
            )
            continue
        seen_ids.add(edge.id)
        link = (edge.source, edge.source_port, edge.target, edge.target_port)
        if link in seen_links:
            issues.append(
                Issue(
                    ErrorCode.EDGE_DUPLICATE,
                    f"Edge '{edge.id}' repeats {edge.source}.{edge.source_port} -> "
                    f"{edge.target}.{edge.target_port}.",
                    None,
                    edge.id,
                )
            )
            continue
        seen_links.add(link)
        missing = [n for n in (edge.source, edge.target) if n not in nodes]
        if missing:
            issues.append(
                Issue(
                    ErrorCode.EDGE_DANGLING,
                    f"Edge '{edge.id}' connects unknown node(s): {', '.join(repr(m) for m in missing)}.",
                    None,
                    edge.id,
                )
            )
            continue
        ok = True
        source_type = types.get(edge.source)
        if source_type is not None:
            names = [p.name for p in source_type.output_ports(nodes[edge.source].config)]
            if on_error.get(edge.source) == "error_port" and ERROR_PORT not in names:
                names.append(ERROR_PORT)
            if edge.source_port not in names:
                ok = False
                issues.append(
                    Issue(
                        ErrorCode.PORT_UNKNOWN,
                        f"Edge '{edge.id}': node '{edge.source}' has no output '{edge.source_port}' "
                        f"(outputs: {', '.join(names) or 'none'})"
                        + (
                            "; set settings.on_error to 'error_port' to use it."
                            if edge.source_port == ERROR_PORT
                            else "."
                        ),
                        edge.source,
                        edge.id,
                    )
                )
        target_type = types.get(edge.target)
        if target_type is not None:
            if target_type.is_trigger or not target_type.inputs:
                ok = False
                issues.append(
                    Issue(
                        ErrorCode.PORT_UNKNOWN,
                        f"Edge '{edge.id}': node '{edge.target}' is a trigger and takes no input.",
                        edge.target,
                        edge.id,
                    )
                )
            elif edge.target_port not in [p.name for p in target_type.inputs]:
                ok = False
                inputs = ", ".join(p.name for p in target_type.inputs)
                issues.append(
                    Issue(
                        ErrorCode.PORT_UNKNOWN,
                        f"Edge '{edge.id}': node '{edge.target}' has no input '{edge.target_port}' "
                        f"(inputs: {inputs}).",
                        edge.target,
                        edge.id,
                    )
                )
        if ok:
            good_edges.append(edge)

    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in good_edges:
        successors[edge.source].append(edge.target)
    for component in _cycles(list(nodes), successors):
        issues.append(
            Issue(
                ErrorCode.GRAPH_CYCLE,
                f"These nodes form a cycle: {', '.join(component)}.",
                component[0],
            )
        )

    _redraft_issues(nodes, types, good_edges, issues)

    triggers = [n for n in nodes if types.get(n) is not None and types[n].is_trigger]
    if not triggers:
        issues.append(Issue(ErrorCode.TRIGGER_MISSING, "The workflow needs a trigger node to start from."))
    for extra in triggers[1:]:
        issues.append(
            Issue(
                ErrorCode.TRIGGER_MULTIPLE,
                f"Node '{extra}' is a second trigger; a workflow has exactly one.",
                extra,
            )
        )
    for trigger_id in triggers:
        response_node = nodes[trigger_id].config.get("response_node")
        if types[trigger_id].key == "trigger.webhook" and response_node and response_node not in nodes:
            issues.append(
                Issue(
                    ErrorCode.NODE_CONFIG_INVALID,
                    f"Node '{trigger_id}', field 'response_node': there is no node '{response_node}'.",
                    trigger_id,
                )
            )
    if triggers:
        reached = set(triggers)
        todo = list(triggers)
        while todo:
            for nxt in successors[todo.pop()]:
                if nxt not in reached:
                    reached.add(nxt)
                    todo.append(nxt)
        for node_id in nodes:
            if node_id not in reached:
                issues.append(
                    Issue(
                        ErrorCode.NODE_UNREACHABLE,
                        f"Node '{node_id}' is not connected to the trigger, so it would never run.",
                        node_id,
                    )
                )
    return issues


def _redraft_issues(
    nodes: Mapping[str, Node], types: Mapping[str, NodeType], edges: list[Edge], out: list[Issue]
) -> None:
    """``human.approval``'s ``redraft_from`` must name a node upstream of it (review rounds)."""
    predecessors: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        predecessors[edge.target].append(edge.source)
    for node_id, node in nodes.items():
        node_type = types.get(node_id)
        target = node.config.get("redraft_from") if isinstance(node.config, Mapping) else None
        if (
            node_type is None
            or node_type.key != "human.approval"
            or not isinstance(target, str)
            or not target
        ):
            continue
        ancestors: set[str] = set()
        todo = [node_id]
        while todo:
            for source in predecessors.get(todo.pop(), []):
                if source not in ancestors:
                    ancestors.add(source)
                    todo.append(source)
        if target not in ancestors:
            what = "there is no such node" if target not in nodes else "it is not upstream of this node"
            out.append(
                Issue(
                    ErrorCode.NODE_CONFIG_INVALID,
                    f"Node '{node_id}', field 'redraft_from': '{target}' cannot be redrafted ({what}).",
                    node_id,
                )
            )


def validate_or_raise(doc: Mapping[str, Any] | Workflow, registry: NodeRegistry) -> Workflow:
    """Parse and validate; return the `Workflow` when it can run.

    Raises:
        WorkflowInvalid: ``details`` lists the issues as dicts.
    """
    issues = validate_workflow(doc, registry)
    if issues:
        summary = (
            issues[0].message if len(issues) == 1 else f"{issues[0].message} (and {len(issues) - 1} more)"
        )
        raise WorkflowInvalid(f"The workflow is invalid: {summary}", details=[i.as_dict() for i in issues])
    return doc if isinstance(doc, Workflow) else parse_workflow(doc)
