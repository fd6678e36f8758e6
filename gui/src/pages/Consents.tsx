import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { formatDuration, parseDuration, slug, UNITS, type Rec } from "../config/logic";
import { Badge, Field, SelectField, TagsField, TextField, Toggle, TagList } from "../ui/kit";

interface ConsentType extends Rec {
  name: string;
  description: string;
  revokable: boolean;
  default_value: "grant" | "deny";
  enabled: boolean;
  required: boolean;
  tags: string[];
  auto_revoke: string;
}

function ConsentForm({ value, set, errors, isNew }: FormProps<ConsentType>) {
  const d = parseDuration(value.auto_revoke);
  return (
    <>
      <TextField
        label="Name"
        value={value.name}
        onChange={(name) => set({ name })}
        error={errors.name ?? errors.id}
        autoFocus={isNew}
        hint={isNew ? (value.name ? <>Its id will be <code>{slug(value.name)}</code>.</> : "E.g. Marketing e-mails") : <>Id: <code>{value.id}</code></>}
      />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} error={errors.description} hint="What the customer agrees to, in plain words." />
      <SelectField
        label="Default value"
        value={value.default_value}
        onChange={(v) => set({ default_value: v as ConsentType["default_value"] })}
        options={[
          { value: "deny", label: "Denied until the customer grants it" },
          { value: "grant", label: "Granted until the customer withdraws it" },
        ]}
        error={errors.default_value}
      />
      <Field label="Auto-revoke after" error={errors.auto_revoke} hint="A granted consent lapses after this long. Empty: never.">
        {(id) => (
          <div className="cfg-inline">
            <input
              id={id}
              type="number"
              min={1}
              value={d.n}
              placeholder="never"
              onChange={(e) => set({ auto_revoke: formatDuration(e.target.value, d.unit) })}
            />
            <select aria-label="Auto-revoke unit" value={d.unit} onChange={(e) => set({ auto_revoke: formatDuration(d.n, e.target.value) })}>
              {UNITS.map((u) => (
                <option key={u.value} value={u.value}>
                  {u.label}
                </option>
              ))}
            </select>
          </div>
        )}
      </Field>
      <TagsField label="Tags" value={value.tags} onChange={(tags) => set({ tags })} />
      <div className="cfg-toggles">
        <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
        <Toggle label="Revokable" checked={value.revokable} onChange={(revokable) => set({ revokable })} hint="(the customer may withdraw it)" />
        <Toggle label="Required" checked={value.required} onChange={(required) => set({ required })} />
      </div>
    </>
  );
}

const def: EntityDef<ConsentType> = {
  title: "Consent types",
  subtitle: "The consents customers can grant or withdraw.",
  noun: "consent type",
  list: "/consents/type",
  item: "/consent/type",
  about: (
    <>
      A consent type is something a customer agrees to, such as marketing e-mails or analytics. Websites report grants and
      withdrawals through the collector; profiles keep them, and rules can require them before a workflow runs.
    </>
  ),
  Form: ConsentForm,
  columns: [
    nameColumn((r) => r.description || r.id),
    { key: "default", title: "Default", render: (r) => <Badge tone={r.default_value === "grant" ? "ok" : "neutral"}>{r.default_value === "grant" ? "Granted" : "Denied"}</Badge> },
    { key: "revokable", title: "Revokable", render: (r) => (r.revokable ? "Yes" : "No") },
    { key: "auto", title: "Auto-revoke", render: (r) => (r.auto_revoke ? describe(r.auto_revoke) : <span className="muted">Never</span>) },
    {
      key: "tags",
      title: "Tags",
      render: (r) => <TagList tags={r.tags} />,
    },
  ],
  search: (r) => [r.tags],
  blank: () => ({ name: "", description: "", revokable: true, default_value: "deny", enabled: true, required: false, tags: [], auto_revoke: "" }),
  check: (r) => (r.name.trim() ? {} : { name: "A consent type needs a name." }),
};

function describe(v: string): string {
  const d = parseDuration(v);
  const u = UNITS.find((x) => x.value === d.unit)?.label ?? d.unit;
  return `after ${d.n} ${d.n === "1" ? u.replace(/s$/, "") : u}`;
}

export default function Consents() {
  return <EntityPage def={def} />;
}
