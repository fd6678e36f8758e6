import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { EventTypeField, JsonField, SourceSelect } from "../config/fields";
import { nonEmptyObject, refId, type Rec } from "../config/logic";
import { Badge, TagsField, TextField, Toggle } from "../ui/kit";

type Part = "properties" | "context" | "session";
interface Schema extends Rec {
  name: string;
  description: string;
  event_type: unknown;
  event_source?: unknown;
  reshaping: { reshape_schema: Partial<Record<Part, unknown>>; [k: string]: unknown };
  enabled: boolean;
  tags: string[];
}

const PARTS: { key: Part; label: string; hint: string }[] = [
  { key: "properties", label: "New event properties", hint: "Replaces the event's properties. Leave {} to keep them as sent." },
  { key: "context", label: "New event context", hint: "Replaces the event's context. Leave {} to keep it." },
  { key: "session", label: "New session context", hint: "Replaces the session's context. Leave {} to keep it." },
];

function ReshapeForm({ value, set, errors, isNew, setInvalid }: FormProps<Schema>) {
  const tpl = value.reshaping?.reshape_schema ?? {};
  const put = (k: Part, v: unknown) => set({ reshaping: { ...value.reshaping, reshape_schema: { ...tpl, [k]: v } } });
  const partError = (k: Part) =>
    Object.entries(errors).find(([p]) => p === `reshaping.reshape_schema.${k}`)?.[1];
  return (
    <>
      <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} hint="E.g. Shop purchase" />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <div className="grid-2">
        <EventTypeField value={refId(value.event_type)} onChange={(t) => set({ event_type: t })} error={errors.event_type} hint="Reshape the events of this type." />
        <SourceSelect
          value={refId(value.event_source)}
          onChange={(id, name) => set({ event_source: id ? { id, name } : "" })}
          error={errors.event_source}
          hint="Only from this source, or any."
        />
      </div>
      <p className="field-hint cfg-note">
        Templates are JSON objects: a string that is a whole reference such as <code>"event@properties.amount"</code> or{" "}
        <code>"session@context.utm"</code> is replaced by that value; a key ending in <code>?</code> is left out when its value is
        missing; everything else stays as written.
      </p>
      {PARTS.map((p) => (
        <JsonField
          key={p.key}
          label={p.label}
          part={p.key}
          setInvalid={setInvalid}
          rows={7}
          value={tpl[p.key] ?? {}}
          onChange={(v) => put(p.key, v)}
          error={partError(p.key) ?? (p.key === "properties" ? errors["reshaping.reshape_schema"] ?? errors.reshaping : undefined)}
          hint={p.hint}
        />
      ))}
      <TagsField label="Tags" value={value.tags} onChange={(tags) => set({ tags })} />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Schema> = {
  title: "Event reshaping",
  subtitle: "Rewrite events from senders you cannot change into the shape your configuration expects.",
  noun: "reshaping schema",
  list: "/event-reshape-schemas",
  item: "/event-reshape-schema",
  about: (
    <>
      A reshaping schema rewrites incoming events of a type (from one source or any) before anything else sees them: e.g. a
      shop sends <code>amount</code> but your validators and workflows expect <code>total</code>.
    </>
  ),
  Form: ReshapeForm,
  columns: [
    nameColumn(),
    { key: "type", title: "Event type", render: (r) => <Badge>{refId(r.event_type)}</Badge> },
    { key: "source", title: "Source", render: (r) => refId(r.event_source) || <span className="muted">Any</span> },
    {
      key: "parts",
      title: "Rewrites",
      render: (r) =>
        PARTS.filter((p) => nonEmptyObject(r.reshaping?.reshape_schema?.[p.key]))
          .map((p) => p.key)
          .join(", ") || "—",
    },
  ],
  search: (r) => [r.event_type, r.event_source, r.tags],
  blank: () => ({
    name: "",
    description: "",
    event_type: "",
    event_source: "",
    reshaping: { reshape_schema: { properties: {}, context: {}, session: {} } },
    enabled: true,
    tags: [],
  }),
  // empty templates mean "leave alone": send only the ones that say something
  prepare: (r) => {
    const t = r.reshaping?.reshape_schema ?? {};
    const kept = Object.fromEntries(Object.entries(t).filter(([, v]) => nonEmptyObject(v)));
    return { ...r, reshaping: { ...r.reshaping, reshape_schema: kept } };
  },
  check: (r) => ({
    name: r.name.trim() ? undefined : "A name is required.",
    event_type: refId(r.event_type).trim() ? undefined : "Choose the event type.",
    "reshaping.reshape_schema.properties": PARTS.some((p) => nonEmptyObject(r.reshaping?.reshape_schema?.[p.key]))
      ? undefined
      : "Write at least one template.",
  }),
};

export default function Reshaping() {
  return <EntityPage def={def} />;
}
