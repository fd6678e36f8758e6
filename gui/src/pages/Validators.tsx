import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { EventTypeField, JsonField } from "../config/fields";
import { refId, short, type Rec } from "../config/logic";
import { Badge, TagsField, TextField, Toggle } from "../ui/kit";

interface Validator extends Rec {
  name: string;
  description: string;
  event_type: unknown;
  validation: { json_schema: unknown; [k: string]: unknown };
  enabled: boolean;
  tags: string[];
}

const STARTER = {
  type: "object",
  properties: { total: { type: "number", minimum: 0 }, currency: { type: "string" } },
  required: ["total"],
};

function ValidatorForm({ value, set, errors, isNew, setInvalid }: FormProps<Validator>) {
  return (
    <>
      <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} hint="E.g. Purchase" />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <EventTypeField value={refId(value.event_type)} onChange={(t) => set({ event_type: t })} error={errors.event_type} hint="Check the properties of every event of this type." />
      <JsonField
        label="JSON schema"
        part="schema"
        setInvalid={setInvalid}
        rows={14}
        value={value.validation?.json_schema ?? {}}
        onChange={(json_schema) => set({ validation: { ...value.validation, json_schema } })}
        error={errors["validation.json_schema"] ?? errors.validation}
        hint={
          <>
            A JSON Schema the event's <code>properties</code> must match. An event that does not is still stored, marked
            invalid, and is neither mapped nor sent to workflows.
          </>
        }
      />
      <TagsField label="Tags" value={value.tags} onChange={(tags) => set({ tags })} />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Validator> = {
  title: "Event validation",
  subtitle: "JSON schemas that the properties of incoming events must match.",
  noun: "validator",
  list: "/event-validators",
  item: "/event-validator",
  about: (
    <>
      A validator checks the properties of every event of a type against a JSON schema, e.g. that a <code>purchase</code> has a
      positive total. Invalid events are kept but marked, and workflows do not see them.
    </>
  ),
  Form: ValidatorForm,
  columns: [
    nameColumn(),
    { key: "type", title: "Event type", render: (r) => <Badge>{refId(r.event_type)}</Badge> },
    {
      key: "schema",
      title: "Checks",
      render: (r) => {
        const fields = schemaFields(r.validation?.json_schema);
        return fields ? <span className="cfg-sub">{fields}</span> : <span className="cfg-code">{short(r.validation?.json_schema, 70)}</span>;
      },
    },
  ],
  search: (r) => [r.event_type, r.tags],
  blank: () => ({ name: "", description: "", event_type: "", validation: { json_schema: STARTER }, enabled: true, tags: [] }),
  check: (r) => ({
    name: r.name.trim() ? undefined : "A name is required.",
    event_type: refId(r.event_type).trim() ? undefined : "Choose the event type.",
  }),
};

export default function Validators() {
  return <EntityPage def={def} />;
}

/** "total (required): number ≥ 0, currency: string" — what a flat object schema checks, readable. */
function schemaFields(schema: unknown): string | undefined {
  if (!schema || typeof schema !== "object") return undefined;
  const sc = schema as { properties?: Record<string, Record<string, unknown>>; required?: unknown };
  if (!sc.properties || typeof sc.properties !== "object") return undefined;
  const req = Array.isArray(sc.required) ? sc.required : [];
  const parts = Object.entries(sc.properties).map(([k, p]) => {
    const t = p && typeof p === "object" ? p : {};
    const type = Array.isArray(t.type) ? t.type.join(" or ") : typeof t.type === "string" ? t.type : "any";
    const range = [typeof t.minimum === "number" ? `≥ ${t.minimum}` : "", typeof t.maximum === "number" ? `≤ ${t.maximum}` : ""].filter(Boolean).join(" ");
    return `${k}${req.includes(k) ? " (required)" : ""}: ${type}${range ? " " + range : ""}`;
  });
  return parts.length ? parts.join(", ") : undefined;
}
