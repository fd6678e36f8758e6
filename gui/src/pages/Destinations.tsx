import { useEffect, useState } from "react";
import { api } from "../api";
import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { cached, ConditionField, EventTypeField, JsonField, PairsEditor, SourceSelect, useCached } from "../config/fields";
import { objectToPairs, pairsToObject, refId, type Rec } from "../config/logic";
import { Badge, Field, SelectField, TagsField, TextField, Toggle } from "../ui/kit";

// cdpd sends every destination as Tracardi's HTTP connector does, whatever the package says
const HTTP = "tracardi.process_engine.destination.http_connector.HttpConnector";

interface Init {
  method?: string;
  timeout?: number;
  headers?: Record<string, unknown>;
  ssl_check?: boolean;
  [k: string]: unknown;
}
interface Destination extends Rec {
  name: string;
  description: string;
  destination: { package: string; init: Init; form: Record<string, unknown> };
  resource: unknown;
  condition: string;
  mapping: Record<string, unknown>;
  enabled: boolean;
  on_profile_change_only: boolean;
  event_type: unknown;
  source: unknown;
  tags: string[];
}
interface ResourceRow {
  id: string;
  name: string;
  type: { id: string; name: string } | string;
  enabled: boolean;
}

// names of resources for the list's column; refreshed when the page mounts
let names = cached(() => api.get<{ result: ResourceRow[] }>("/resources", { query: { limit: 1000 } }).then((r) => r.result));
function ResourceName({ id }: { id: string }) {
  const list = useCached(names, [] as ResourceRow[]);
  return <>{list.find((r) => r.id === id)?.name ?? id}</>;
}

function useResources() {
  const [list, setList] = useState<ResourceRow[]>();
  useEffect(() => {
    api.get<{ result: ResourceRow[] }>("/resources", { query: { limit: 1000, sort: "name" } }).then(
      (r) => setList(r.result),
      () => setList([]),
    );
  }, []);
  return list;
}

function DestinationForm({ value, set, errors, isNew, setInvalid }: FormProps<Destination>) {
  const resources = useResources();
  const init = value.destination?.init ?? {};
  const setInit = (patch: Partial<Init>) => set({ destination: { ...value.destination, init: { ...init, ...patch } } });
  const rid = refId(value.resource);
  const forEvents = !value.on_profile_change_only;
  const pkg = value.destination?.package ?? HTTP;
  const resOptions = [
    { value: "", label: resources === undefined ? "Loading…" : resources.length ? "Choose a resource…" : "No resources yet: add one under Resources" },
    ...(resources ?? []).map((r) => ({ value: r.id, label: `${r.name}${r.enabled ? "" : " (disabled)"}` })),
    ...(rid && resources && !resources.some((r) => r.id === rid) ? [{ value: rid, label: rid }] : []),
  ];
  const [headers, setHeaders] = useState(() => objectToPairs(init.headers).map((p) => ({ left: p.key, right: p.value })));
  return (
    <>
      <TextField label="Name" value={value.name} onChange={(name) => set({ name })} error={errors.name} autoFocus={isNew} hint="E.g. CRM webhook" />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} />
      <div className="grid-2">
        <SelectField
          label="Resource"
          value={rid}
          options={resOptions}
          onChange={(id) => set({ resource: { id } })}
          error={errors.resource ?? errors["resource.id"]}
          hint="Data goes to its production url (with its username and password, if any)."
        />
        <SelectField
          label="Destination type"
          value={pkg}
          options={[{ value: HTTP, label: "HTTP webhook" }, ...(pkg !== HTTP ? [{ value: pkg, label: pkg }] : [])]}
          onChange={(p) => set({ destination: { ...value.destination, package: p } })}
          error={errors.destination ?? errors["destination.package"]}
        />
      </div>
      <SelectField
        label="Send when"
        value={forEvents ? "event" : "profile"}
        options={[
          { value: "profile", label: "A profile changes (profile destination)" },
          { value: "event", label: "An event is collected (event destination)" },
        ]}
        onChange={(v) => set({ on_profile_change_only: v === "profile" })}
      />
      {forEvents && (
        <div className="grid-2">
          <EventTypeField
            value={refId(value.event_type)}
            onChange={(t) => set({ event_type: t ? { id: t, name: t } : { id: "", name: "" } })}
            error={errors.event_type}
            hint="Only events of this type. Empty: any."
          />
          <SourceSelect
            value={refId(value.source)}
            onChange={(id, name) => set({ source: { id, name } })}
            error={errors.source}
            hint="Only events from this source, or any."
          />
        </div>
      )}
      <ConditionField
        label="Only when"
        value={value.condition}
        onChange={(condition) => set({ condition })}
        error={errors.condition}
        hint="Optional: send only when this condition holds."
        placeholder="profile@data.contact.email.main NOT EMPTY"
      />
      <JsonField
        label="Data mapping"
        part="mapping"
        setInvalid={setInvalid}
        rows={8}
        value={value.mapping ?? {}}
        onChange={(mapping) => set({ mapping: mapping as Record<string, unknown> })}
        error={errors.mapping}
        hint={
          <>
            What is sent, as <code>{'{"data": …}'}</code>: keys you choose, values such as <code>"profile@data.contact.email.main"</code>,{" "}
            <code>"profile@segments"</code> or <code>"event@properties"</code>. A key ending in <code>?</code> is left out when missing.
          </>
        }
      />
      <div className="cfg-section">
        <h3>HTTP request</h3>
        <div className="grid-2">
          <SelectField
            label="Method"
            value={(init.method ?? "POST").toUpperCase()}
            options={["POST", "PUT", "PATCH", "GET", "DELETE"].map((m) => ({ value: m, label: m }))}
            onChange={(method) => setInit({ method: method.toLowerCase() })}
          />
          <Field label="Timeout (seconds)" error={errors["destination.init"]}>
            {(id) => (
              <input
                id={id}
                type="number"
                min={1}
                value={init.timeout ?? ""}
                placeholder="30"
                onChange={(e) => setInit({ timeout: e.target.value === "" ? undefined : Number(e.target.value) })}
              />
            )}
          </Field>
        </div>
        <PairsEditor
          label="Headers"
          leftLabel="Header"
          rightLabel="Header value"
          leftPlaceholder="X-Api-Key"
          rightPlaceholder="value"
          addLabel="Add header"
          rows={headers}
          onChange={(rs) => {
            setHeaders(rs);
            setInit({ headers: pairsToObject(rs.map((r) => ({ key: r.left, value: r.right }))) });
          }}
        />
        <Toggle label="Check TLS certificates" checked={init.ssl_check !== false} onChange={(ssl_check) => setInit({ ssl_check })} />
      </div>
      <TagsField label="Tags" value={value.tags} onChange={(tags) => set({ tags })} />
      <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
    </>
  );
}

const def: EntityDef<Destination> = {
  title: "Destinations",
  subtitle: "Send profile and event data to other systems as it changes.",
  noun: "destination",
  list: "/destinations",
  item: "/destination",
  about: (
    <>
      A destination sends data out: when a profile changes (or an event of a type arrives), the fields you map are posted to
      another system, e.g. a CRM or a mailing tool, through a resource that holds its address and credentials.
    </>
  ),
  Form: DestinationForm,
  columns: [
    nameColumn(),
    {
      key: "kind",
      title: "Sends",
      render: (r) =>
        r.on_profile_change_only ? (
          <Badge tone="info">Profile changes</Badge>
        ) : (
          <>
            <Badge tone="warn">Events</Badge>
            <span className="cfg-sub">{refId(r.event_type) || "any type"}</span>
          </>
        ),
    },
    { key: "resource", title: "Resource", render: (r) => <ResourceName id={refId(r.resource)} /> },
    { key: "cond", title: "Condition", render: (r) => (r.condition ? <span className="cfg-code">{r.condition}</span> : <span className="muted">Always</span>) },
  ],
  search: (r) => [r.resource, r.event_type, r.source, r.tags, r.condition],
  blank: () => ({
    name: "",
    description: "",
    destination: { package: HTTP, init: { method: "post", timeout: 30, headers: {}, ssl_check: true }, form: {} },
    resource: "",
    condition: "",
    mapping: { email: "profile@data.contact.email.main", segments: "profile@segments" },
    enabled: true,
    on_profile_change_only: true,
    event_type: { id: "", name: "" },
    source: { id: "", name: "" },
    tags: [],
  }),
  check: (r) => ({
    name: r.name.trim() ? undefined : "A name is required.",
    resource: refId(r.resource) ? undefined : "Choose the resource to send to.",
  }),
};

export default function Destinations() {
  names = cached(() => api.get<{ result: ResourceRow[] }>("/resources", { query: { limit: 1000 } }).then((r) => r.result));
  return <EntityPage def={def} />;
}
