// The canvas node: plugin colour and icon, name, input ports on top, output ports at the bottom,
// and what the last debug run did with it.
import { createContext, memo, useContext } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { findPlugin, formatRunTime, groupColour, groupIcon, groupOf, nodeName, ports, type CanvasNode, type NodeRun, type Plugin } from "./graph";

export interface CanvasInfo {
  plugins: Plugin[];
  runs?: Record<string, NodeRun>; // the last debug run
  errorNode?: string; // the node the server's last refusal named
}
export const CanvasContext = createContext<CanvasInfo>({ plugins: [] });

function FlowNodeView(props: NodeProps) {
  const info = useContext(CanvasContext);
  const n = { id: props.id, data: props.data, position: { x: 0, y: 0 } } as unknown as CanvasNode;
  const plugin = findPlugin(info.plugins, n.data.spec);
  const { inputs, outputs } = ports(n, plugin);
  const group = groupOf(plugin, n);
  const colour = groupColour(group);
  const name = nodeName(n, plugin);
  const run = info.runs?.[props.id];
  const spec = n.data.spec ?? {};
  const off = !!(spec.skip || spec.block_flow);
  const cls = [
    "flow-node",
    props.selected ? "selected" : "",
    off ? "flow-node-off" : "",
    info.errorNode === props.id ? "flow-node-invalid" : "",
    run ? (run.errors ? "flow-node-failed" : "flow-node-ran") : info.runs ? "flow-node-idle" : "",
    !plugin ? "flow-node-unknown" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={cls} style={{ ["--node-colour" as string]: colour }} title={plugin?.metadata.desc}>
      {inputs.map((p, i) => (
        <Handle
          key={"in-" + p}
          id={p}
          type="target"
          position={Position.Top}
          style={{ left: `${((i + 1) / (inputs.length + 1)) * 100}%` }}
          title={`Input: ${p}`}
          className="flow-handle"
        />
      ))}
      <div className="flow-node-body">
        <span className="flow-node-icon" aria-hidden>
          {groupIcon(group)}
        </span>
        <div className="flow-node-text">
          <div className="flow-node-name">{name}</div>
          <div className="flow-node-plugin">
            {plugin ? (plugin.metadata.name !== name ? plugin.metadata.name : group) : `Unknown plugin ${spec.className ?? ""}`}
            {spec.skip ? " · skipped" : spec.block_flow ? " · blocked" : n.data.debug ? " · debug only" : ""}
          </div>
        </div>
      </div>
      {run && (
        <div className={`flow-node-badge ${run.errors ? "bad" : "good"}`} title={`Ran ${run.calls}× in ${formatRunTime(run.runTime)}`}>
          {run.errors ? `✕ ${run.errors} error${run.errors > 1 ? "s" : ""}` : `✓ ${run.calls > 1 ? run.calls + "×" : "ran"}`}
        </div>
      )}
      {(outputs.length > 1 || outputs.some((p) => p !== "payload")) && (
        <div className="flow-node-ports" aria-hidden>
          {outputs.map((p, i) => (
            <span key={p} style={{ left: `${((i + 1) / (outputs.length + 1)) * 100}%` }}>
              {p}
            </span>
          ))}
        </div>
      )}
      {outputs.map((p, i) => (
        <Handle
          key={"out-" + p}
          id={p}
          type="source"
          position={Position.Bottom}
          style={{ left: `${((i + 1) / (outputs.length + 1)) * 100}%` }}
          title={`Output: ${p}`}
          className={`flow-handle flow-handle-out port-${p.toLowerCase()}`}
        />
      ))}
    </div>
  );
}

export const FlowNode = memo(FlowNodeView);
