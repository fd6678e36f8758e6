import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { JsonField } from "../config/fields";
import { short, without, type Rec } from "../config/logic";
import { Badge, formatDate, TextField, Toggle } from "../ui/kit";

interface Setting extends Rec {
  name: string;
  type: string;
  description: string;
  enabled: boolean;
  content: unknown;
  config: unknown;
  timestamp?: string;
}

function SettingForm({ value, set, errors, isNew, setInvalid }: FormProps<Setting>) {
  return (
    <>
      <div className="grid-2">
        <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} />
        <TextField label="Type" value={value.type} onChange={(type) => set({ type })} error={errors.type} hint="Groups settings of one kind, e.g. gui or a plugin's name." />
      </div>
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <JsonField
        label="Content"
        part="content"
        setInvalid={setInvalid}
        rows={10}
        value={value.content ?? {}}
        onChange={(content) => set({ content })}
        error={errors.content}
        hint="The setting's value, a JSON object."
      />
      <JsonField label="Config" part="config" setInvalid={setInvalid} rows={5} value={value.config ?? {}} onChange={(config) => set({ config })} error={errors.config} hint="Optional extra configuration." />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Setting> = {
  title: "Settings",
  subtitle: "Named settings that the GUI and plugins keep their configuration in.",
  noun: "setting",
  list: "/settings",
  item: "/setting",
  about: <>Settings are named JSON documents of a type, where the GUI and plugins keep their own configuration.</>,
  Form: SettingForm,
  columns: [
    nameColumn(),
    { key: "type", title: "Type", render: (r) => <Badge>{r.type}</Badge> },
    { key: "content", title: "Content", render: (r) => <span className="cfg-sub">{contentSummary(r.content) ?? short(r.content, 60)}</span> },
    { key: "time", title: "Saved", render: (r) => <span className="muted small">{formatDate(r.timestamp)}</span> },
  ],
  search: (r) => [r.type, JSON.stringify(r.content)],
  blank: () => ({ name: "", type: "", description: "", enabled: true, content: {}, config: {} }),
  prepare: (r) => without(r, ["timestamp"]),
  check: (r) => ({
    name: r.name.trim() ? undefined : "A name is required.",
    type: r.type.trim() ? undefined : "A type is required.",
  }),
};

export default function Settings() {
  return <EntityPage def={def} />;
}

/** "cols: 2, theme: dark, +3 more": the top keys of a setting's content, readable in a list. */
function contentSummary(c: unknown): string | undefined {
  if (!c || typeof c !== "object" || Array.isArray(c)) return undefined;
  const entries = Object.entries(c as Record<string, unknown>);
  if (!entries.length) return "Empty";
  const shown = entries.slice(0, 3).map(([k, v]) => `${k}: ${v !== null && typeof v === "object" ? (Array.isArray(v) ? `${v.length} items` : "{…}") : String(v)}`);
  return shown.join(", ") + (entries.length > 3 ? `, +${entries.length - 3} more` : "");
}
