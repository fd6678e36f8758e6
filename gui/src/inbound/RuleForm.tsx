// Create or edit a trigger rule: which events (type, source) run which workflow.
import { useId, useState } from "react";
import { api, ApiError } from "../api";
import { ErrorBox, Field, FormModal, SelectField, TagsField, TextField, Toggle } from "../ui/kit";
import { toast } from "../ui/toast";
import { fieldError } from "./routing";
import { refId, type ConsentType, type EventSource, type FlowSummary, type Ref, type Rule } from "./types";
import "./inbound.css";

const FIELDS = ["name", "event_type", "source", "flow", "enabled", "tags", "description", "properties"] as const;

export interface EventTypeOption {
  id: string;
  name: string;
}

export function RuleForm(props: {
  rule?: Rule;
  sources: EventSource[];
  flows: FlowSummary[];
  consents: ConsentType[];
  eventTypes: EventTypeOption[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const r = props.rule;
  const [f, setF] = useState(() => ({
    name: r?.name ?? "",
    eventType: refId(r?.event_type),
    source: refId(r?.source),
    flow: refId(r?.flow) || (props.flows.length === 1 ? props.flows[0].id : ""),
    enabled: r?.enabled ?? true,
    consents: (r?.properties?.consents ?? []).map((c) => refId(c)),
    description: r?.description ?? "",
    tags: r?.tags ?? [],
  }));
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field?: string; message: string }>();
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((o) => ({ ...o, [k]: v }));
  const fe = (k: string) => (err?.field === k ? err.message : undefined);
  const listId = useId();
  const flow = props.flows.find((x) => x.id === f.flow);
  // a rule may point to a source or flow that is gone: keep it selectable so the form shows it
  const sourceOpts = [
    { value: "", label: "Any source" },
    ...props.sources.map((s) => ({ value: s.id, label: `${s.name}${s.enabled ? "" : " (disabled)"}` })),
    ...(f.source && !props.sources.some((s) => s.id === f.source) ? [{ value: f.source, label: `${f.source} (missing)` }] : []),
  ];
  const flowOpts = [
    { value: "", label: props.flows.length ? "Choose a workflow…" : "No workflows yet" },
    ...props.flows.map((x) => ({ value: x.id, label: `${x.name}${x.deployed ? "" : " (not deployed)"}` })),
    ...(f.flow && !flow ? [{ value: f.flow, label: `${f.flow} (missing)` }] : []),
  ];

  const save = async () => {
    const et = f.eventType.trim();
    if (!f.name.trim()) return setErr({ field: "name", message: "A rule needs a name." });
    if (!et) return setErr({ field: "event_type", message: "Enter the event type that triggers the rule." });
    if (!f.flow) return setErr({ field: "flow", message: "Choose the workflow to run." });
    setBusy(true);
    setErr(undefined);
    const ref = (id: string, name?: string): Ref => ({ id, name: name ?? id });
    const src = props.sources.find((s) => s.id === f.source);
    try {
      await api.post("/rule", {
        ...(r ?? { type: "event-collect" }),
        name: f.name.trim(),
        event_type: ref(et, props.eventTypes.find((t) => t.id === et)?.name),
        source: f.source ? ref(f.source, src?.name) : null,
        flow: ref(f.flow, flow?.name),
        enabled: f.enabled,
        description: f.description,
        tags: f.tags,
        properties: {
          ...(r?.properties ?? {}),
          consents: f.consents.map((id) => ref(id, props.consents.find((c) => c.id === id)?.name)),
        },
      });
      toast(r ? "Rule saved" : "Rule created");
      props.onSaved();
    } catch (e) {
      setErr(e instanceof ApiError ? fieldError(e.message, FIELDS) : { message: (e as Error).message });
      setBusy(false);
    }
  };

  return (
    <FormModal title={r ? "Edit rule" : "New rule"} onClose={props.onClose} onSave={save} busy={busy}>
      <TextField label="Name" value={f.name} onChange={(v) => set("name", v)} error={fe("name")} autoFocus hint="Rules run in the order of their names." />
      <Field label="Event type" error={fe("event_type")} hint="The type of the events that start the workflow, e.g. page-view.">
        {(id) => (
          <>
            <input id={id} className="mono" list={listId} value={f.eventType} onChange={(e) => set("eventType", e.target.value)} autoComplete="off" />
            <datalist id={listId}>
              {props.eventTypes.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name !== t.id ? t.name : undefined}
                </option>
              ))}
            </datalist>
          </>
        )}
      </Field>
      <SelectField label="Source" value={f.source} onChange={(v) => set("source", v)} options={sourceOpts} error={fe("source")} hint={f.source ? undefined : "Events of this type from every source."} />
      <SelectField
        label="Workflow"
        value={f.flow}
        onChange={(v) => set("flow", v)}
        options={flowOpts}
        error={fe("flow")}
        hint={
          flow ? (
            <>
              {!flow.deployed && <span className="inb-warn-text">Not deployed: the rule runs it only once it is deployed. </span>}
              <a href={`#/flows/${encodeURIComponent(flow.id)}`}>Open workflow</a>
            </>
          ) : props.flows.length === 0 ? (
            <>
              Create one first under <a href="#/flows">Workflows</a>.
            </>
          ) : undefined
        }
      />
      <Toggle label="Enabled" checked={f.enabled} onChange={(v) => set("enabled", v)} />
      <fieldset className="inb-fieldset">
        <legend>Required consents</legend>
        {props.consents.length === 0 ? (
          <p className="muted small" style={{ margin: "2px 0 6px" }}>
            No consent types defined. The rule runs for every profile.
          </p>
        ) : (
          <>
            <div className="inb-checks-inline">
              {props.consents.map((c) => (
                <label key={c.id} className="inb-check">
                  <input
                    type="checkbox"
                    checked={f.consents.includes(c.id)}
                    onChange={(e) => set("consents", e.target.checked ? [...f.consents, c.id] : f.consents.filter((x) => x !== c.id))}
                  />
                  <span>{c.name}</span>
                </label>
              ))}
            </div>
            <div className="field-hint" style={{ marginBottom: 6 }}>
              The workflow runs only for profiles that hold every ticked consent.
            </div>
          </>
        )}
      </fieldset>
      <TextField label="Description" value={f.description} onChange={(v) => set("description", v)} multiline rows={2} error={fe("description")} />
      <TagsField label="Tags" value={f.tags} onChange={(v) => set("tags", v)} />
      {err && !err.field && <ErrorBox error={err.message} />}
    </FormModal>
  );
}
