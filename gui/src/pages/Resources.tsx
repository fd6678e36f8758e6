import { useEffect, useState } from "react";
import { api, getSession, hasRole, ROLES } from "../api";
import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { JsonField } from "../config/fields";
import { credentialsFromForm, isSealed, refId, without, type Rec } from "../config/logic";
import { Badge, Button, formatDate, SelectField, TagsField, TextField, Toggle, TagList } from "../ui/kit";

interface Resource extends Rec {
  name: string;
  type: unknown;
  description: string;
  credentials: { production: unknown; test: unknown };
  enabled: boolean;
  tags: string[];
  timestamp?: string;
}
interface TypeConf {
  name: string;
  tags: string[];
  config: Record<string, unknown>;
}

let typesOnce: Promise<Record<string, TypeConf>> | undefined;
function loadTypes() {
  typesOnce ??= api.get<{ result: Record<string, TypeConf> }>("/resources/type/configuration").then(
    (r) => r.result,
    (e) => {
      typesOnce = undefined;
      throw e;
    },
  );
  return typesOnce;
}
function useTypes() {
  const [types, setTypes] = useState<Record<string, TypeConf>>({});
  useEffect(() => {
    loadTypes().then(setTypes, () => {});
  }, []);
  return types;
}

/** One set of credentials: a field per key the type expects, or JSON; masked ones can be replaced. */
function Credentials(props: {
  which: "production" | "test";
  value: unknown;
  template: Record<string, unknown>;
  onChange: (v: unknown) => void;
  setInvalid: (part: string, bad: boolean) => void;
  error?: string;
  asJson: boolean;
}) {
  const title = props.which === "production" ? "Production credentials" : "Test credentials";
  if (isSealed(props.value))
    return (
      <div>
        <h3>{title}</h3>
        <div className="cfg-sealed">
          <span>Hidden: only administrators see credentials. Saving keeps the stored ones.</span>
          <Button small onClick={() => props.onChange({})}>
            Replace {props.which} credentials
          </Button>
        </div>
      </div>
    );
  const obj = (props.value && typeof props.value === "object" ? props.value : {}) as Record<string, unknown>;
  if (props.asJson)
    return (
      <JsonField
        label={title}
        part={`cred-${props.which}`}
        setInvalid={props.setInvalid}
        rows={8}
        value={obj}
        onChange={props.onChange}
        error={props.error}
      />
    );
  // the type's keys first, then whatever else is stored
  const keys = [...Object.keys(props.template), ...Object.keys(obj).filter((k) => !(k in props.template))];
  const text = (k: string) => (obj[k] === undefined || obj[k] === null ? "" : typeof obj[k] === "string" ? (obj[k] as string) : JSON.stringify(obj[k]));
  return (
    <div>
      <h3>{title}</h3>
      {keys.length === 0 && <p className="muted small">This type names no fields: use “Edit credentials as JSON”.</p>}
      {keys.map((k) => (
        <TextField
          key={k}
          label={`${props.which === "production" ? "Production" : "Test"} ${/^(url|uri|id|api)$/i.test(k) ? k.toUpperCase() : k.replace(/_/g, " ")}`}
          type={/pass|secret|token/i.test(k) ? "password" : "text"}
          value={text(k)}
          placeholder={typeof props.template[k] === "string" ? (props.template[k] as string) : String(props.template[k] ?? "")}
          onChange={(v) => {
            const rows = Object.fromEntries(keys.map((x) => [x, x === k ? v : text(x)]));
            // keep keys the user left empty out, unless they were stored
            const kept = Object.fromEntries(Object.entries(rows).filter(([x, val]) => val !== "" || x in obj));
            props.onChange(credentialsFromForm(kept, props.template));
          }}
        />
      ))}
      {props.error && <div className="field-error">{props.error}</div>}
    </div>
  );
}

function ResourceForm({ value, set, errors, isNew, setInvalid }: FormProps<Resource>) {
  const types = useTypes();
  const [asJson, setAsJson] = useState(false);
  const type = refId(value.type);
  const template = types[type]?.config ?? {};
  const options = [
    { value: "", label: "Choose a type…" },
    ...Object.entries(types).map(([id, t]) => ({ value: id, label: t.name })),
    ...(type && !types[type] ? [{ value: type, label: type }] : []),
  ];
  return (
    <>
      <div className="grid-2">
        <SelectField
          label="Type"
          value={type}
          options={options}
          onChange={(t) => set({ type: t ? { id: t, name: types[t]?.name ?? t } : "" })}
          error={errors.type}
          hint="What kind of system this reaches."
        />
        <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} hint="E.g. CRM webhook" />
      </div>
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <div className="cfg-section">
        <div className="row">
          <p className="field-hint grow cfg-cred-note">Production credentials are used by live traffic; test credentials when debugging.</p>
          <Toggle label="Edit credentials as JSON" checked={asJson} onChange={setAsJson} />
        </div>
        <div className="cfg-creds">
          {(["production", "test"] as const).map((w) => (
            <Credentials
              key={w}
              which={w}
              value={value.credentials?.[w]}
              template={template}
              asJson={asJson}
              setInvalid={setInvalid}
              error={errors[`credentials.${w}`]}
              onChange={(v) => set({ credentials: { ...value.credentials, [w]: v } })}
            />
          ))}
        </div>
        {errors.credentials && !errors["credentials.production"] && !errors["credentials.test"] && <div className="field-error">{errors.credentials}</div>}
      </div>
      <TagsField label="Tags" value={value.tags} onChange={(tags) => set({ tags })} />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Resource> = {
  title: "Resources",
  subtitle: "Credentials of the systems that workflows and destinations reach.",
  noun: "resource",
  list: "/resources",
  item: "/resource",
  about: (
    <>
      A resource holds how to reach another system (an API endpoint, a database, a mail server): its address and credentials,
      one set for production and one for tests. Destinations and workflow actions use them. Credentials are stored
      encrypted.
    </>
  ),
  Form: ResourceForm,
  columns: [
    nameColumn(),
    { key: "type", title: "Type", render: (r) => <Badge tone="info">{(r.type as { name?: string })?.name || refId(r.type)}</Badge> },
    {
      key: "tags",
      title: "Tags",
      render: (r) => <TagList tags={r.tags} />,
    },
    { key: "time", title: "Saved", render: (r) => <span className="muted small">{formatDate(r.timestamp)}</span> },
  ],
  search: (r) => [r.type, r.tags],
  blank: () => ({
    name: "",
    type: { id: "api", name: "API endpoint" },
    description: "",
    credentials: { production: {}, test: {} },
    enabled: true,
    tags: ["general"],
  }),
  prepare: (r) => without(r, ["timestamp"]),
  reloadBeforeEdit: true,
  toggle: (r, on) => api.get(`/resource/${encodeURIComponent(r.id ?? "")}/enabled/${on ? "on" : "off"}`),
  check: (r) => ({
    name: r.name.trim() ? undefined : "A name is required.",
    type: refId(r.type) ? undefined : "Choose a type.",
  }),
  formHelp: () =>
    hasRole(getSession(), ROLES.admin) ? null : (
      <p className="field-hint cfg-note">As a developer you see credentials masked; you may replace them, not read them.</p>
    ),
};

export default function Resources() {
  return <EntityPage def={def} />;
}
