import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { ConditionField, EventTypeField, PairsEditor } from "../config/fields";
import { OPS, opName, refId, refValue, rowOfError, type Rec } from "../config/logic";
import { Badge, TagsField, TextField, Toggle } from "../ui/kit";

interface Pair {
  event: unknown;
  op: unknown;
  profile: unknown;
}
interface Mapping extends Rec {
  name: string;
  description: string;
  event_type: unknown;
  enabled: boolean;
  config: { condition?: string; [k: string]: unknown };
  event_to_profile: Pair[];
  tags: string[];
}

function MappingForm({ value, set, errors, errorPath, isNew }: FormProps<Mapping>) {
  const rows = value.event_to_profile.map((p) => ({ left: refValue(p.event), mid: opName(p.op), right: refValue(p.profile) }));
  const errRow = rowOfError(errorPath, "event_to_profile");
  return (
    <>
      <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} hint="E.g. E-mail from sign-ups" />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <EventTypeField value={refId(value.event_type)} onChange={(t) => set({ event_type: t })} error={errors.event_type} hint="Copy from every valid event of this type." />
      <PairsEditor
        label="Copy fields"
        leftLabel="Event field"
        rightLabel="Profile field"
        mid={{ label: "Operation", options: OPS }}
        leftPlaceholder="properties.email"
        rightPlaceholder="data.contact.email.main"
        addLabel="Add field"
        rows={rows}
        onChange={(rs) => set({ event_to_profile: rs.map((r) => ({ event: r.left, op: r.mid ?? "set", profile: r.right })) })}
        error={errRow === undefined ? errors.event_to_profile : undefined}
        rowError={(i) => (i === errRow ? errors.event_to_profile : undefined)}
        hint="Profile fields lie under data, traits, ids, stats, segments, interests, consents, aux or misc. Set if empty keeps a value already there; Append makes a list; Increment adds a number."
      />
      <ConditionField
        label="Only when"
        value={value.config?.condition ?? ""}
        onChange={(condition) => set({ config: { ...value.config, condition } })}
        error={errors["config.condition"] ?? errors.config}
        hint="Optional: copy only when this condition holds."
        placeholder='event@properties.email NOT EMPTY'
      />
      <TagsField label="Tags" value={value.tags} onChange={(tags) => set({ tags })} />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Mapping> = {
  title: "Event to profile",
  subtitle: "Copy fields of incoming events into the profile, without a workflow.",
  noun: "mapping",
  list: "/event-to-profiles",
  item: "/event-to-profile",
  about: (
    <>
      A mapping copies data from events into the profile: e.g. the e-mail of a <code>sign-up</code> event into the profile's
      contact e-mail. It runs for every valid event of its type, before the workflows.
    </>
  ),
  Form: MappingForm,
  columns: [
    nameColumn(),
    { key: "type", title: "Event type", render: (r) => <Badge>{refId(r.event_type)}</Badge> },
    {
      key: "copy",
      title: "Copies",
      render: (r) => (
        <span className="cfg-sub">{r.event_to_profile.map((p) => `${refValue(p.event)} → ${refValue(p.profile)}`).join(", ") || "—"}</span>
      ),
    },
    { key: "cond", title: "Condition", render: (r) => (r.config?.condition ? <span className="cfg-code">{r.config.condition}</span> : <span className="muted">Always</span>) },
  ],
  search: (r) => [r.event_type, r.tags, r.config?.condition, r.event_to_profile.map((p) => refValue(p.event) + " " + refValue(p.profile))],
  blank: () => ({
    name: "",
    description: "",
    event_type: "",
    enabled: true,
    config: { condition: "" },
    event_to_profile: [{ event: "", op: "set", profile: "" }],
    tags: [],
  }),
  check: (r) => ({
    name: r.name.trim() ? undefined : "A name is required.",
    event_type: refId(r.event_type).trim() ? undefined : "Choose the event type.",
  }),
};

export default function Mappings() {
  return <EntityPage def={def} />;
}
