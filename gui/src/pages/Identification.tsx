import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { EventTypeField, PairsEditor, SourceSelect } from "../config/fields";
import { refId, refValue, rowOfError, type Rec } from "../config/logic";
import { Badge, TextField, Toggle } from "../ui/kit";

interface Point extends Rec {
  name: string;
  description: string;
  event_type: unknown;
  source: unknown;
  fields: { profile_trait: unknown; event_property: unknown }[];
  enabled: boolean;
  settings?: unknown;
}

function PointForm({ value, set, errors, errorPath, isNew }: FormProps<Point>) {
  const rows = value.fields.map((f) => ({ left: refValue(f.event_property), right: refValue(f.profile_trait) }));
  const fieldErr = errors.fields;
  const errRow = fieldErr ? rowOfError(errorPath, "fields") : undefined;
  return (
    <>
      <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} hint="E.g. Sign-in by e-mail" />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <div className="grid-2">
        <EventTypeField value={refId(value.event_type)} onChange={(t) => set({ event_type: t })} error={errors.event_type} hint="Events of this type say who the person is." />
        <SourceSelect value={refId(value.source)} onChange={(id, name) => set({ source: id ? { id, name } : "" })} error={errors.source} hint="Only from this source, or any." />
      </div>
      <PairsEditor
        label="Match on"
        leftLabel="Event field"
        rightLabel="Profile field"
        leftPlaceholder="properties.email"
        rightPlaceholder="data.contact.email.main"
        addLabel="Add field"
        rows={rows}
        onChange={(rs) => set({ fields: rs.map((r) => ({ event_property: r.left, profile_trait: r.right })) })}
        error={errRow === undefined ? fieldErr : undefined}
        rowError={(i) => (i === errRow ? fieldErr : undefined)}
        hint="The event identifies the profile whose fields hold the same values. Every event field must be present."
      />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Point> = {
  title: "Identification points",
  subtitle: "Which events tell who the visitor is, and by which fields.",
  noun: "identification point",
  list: "/identification/points",
  item: "/identification/point",
  about: (
    <>
      An identification point says that an event, e.g. a sign-in, names the person: when its fields (the e-mail sent with
      it) match a known profile, the visitor's data joins that profile.
    </>
  ),
  Form: PointForm,
  columns: [
    nameColumn(),
    { key: "type", title: "Event type", render: (r) => <Badge>{refId(r.event_type)}</Badge> },
    { key: "source", title: "Source", render: (r) => refId(r.source) || <span className="muted">Any</span> },
    {
      key: "fields",
      title: "Match on",
      render: (r) => (
        <span className="cfg-sub">
          {r.fields.map((f) => `${refValue(f.event_property)} → ${refValue(f.profile_trait)}`).join(", ")}
        </span>
      ),
    },
  ],
  search: (r) => [r.event_type, r.source, r.fields.map((f) => refValue(f.event_property) + " " + refValue(f.profile_trait))],
  blank: () => ({
    name: "",
    description: "",
    event_type: "",
    source: "",
    fields: [{ event_property: "properties.email", profile_trait: "data.contact.email.main" }],
    enabled: true,
    settings: {},
  }),
  check: (r) => ({
    ...(r.name.trim() ? {} : { name: "A name is required." }),
    ...(refId(r.event_type).trim() ? {} : { event_type: "Choose the event type." }),
    ...(r.fields.length ? {} : { fields: "Add at least one field to match on." }),
  }),
};

export default function Identification() {
  return <EntityPage def={def} />;
}
