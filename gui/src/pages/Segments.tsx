import { useState } from "react";
import { api } from "../api";
import { EntityPage, nameColumn, type EntityDef, type FormProps } from "../config/EntityPage";
import { ConditionField, EventTypesField } from "../config/fields";
import { slug, without, type Rec } from "../config/logic";
import { Badge, Button, TextField, Toggle } from "../ui/kit";
import { toast, toastError } from "../ui/toast";

interface Segment extends Rec {
  name: string;
  description: string;
  eventType: string[];
  condition: string;
  enabled: boolean;
  remove_when_false: boolean;
  machine_name?: string;
  count?: number;
}

function SegmentForm({ value, set, errors, isNew }: FormProps<Segment>) {
  const [preview, setPreview] = useState<{ busy?: boolean; text?: string; error?: string }>({});
  const count = async () => {
    setPreview({ busy: true });
    try {
      // the profile search speaks the same condition language and accepts profile@ fields
      const r = await api.post<{ total: number }>("/profile/select", { where: value.condition, limit: 1 });
      setPreview({ text: `${r.total >= 10000 ? "10,000 or more" : r.total.toLocaleString()} profile${r.total === 1 ? "" : "s"} match now` });
    } catch (e) {
      setPreview({ error: (e as Error).message });
    }
  };
  const machine = isNew || !value.machine_name ? slug(value.name) : value.machine_name;
  return (
    <>
      <TextField
        label="Name"
        value={value.name}
        onChange={(name) => set({ name })}
        error={errors.name}
        hint={machine ? <>Profiles in the segment get the tag <code>{machine}</code> in their segments.</> : "E.g. Big spenders"}
        autoFocus={isNew}
      />
      <TextField label="Description" multiline rows={2} value={value.description} onChange={(description) => set({ description })} error={errors.description} />
      <EventTypesField
        label="Event types"
        value={value.eventType}
        onChange={(eventType) => set({ eventType })}
        error={errors.eventType}
        hint="Check the segment after these events only. Empty: after any event."
      />
      <ConditionField
        value={value.condition}
        onChange={(condition) => {
          set({ condition });
          setPreview({});
        }}
        error={errors.condition}
        hint="When it holds, the profile joins the segment."
        placeholder="profile@stats.counters.orders > 5"
        extra={
          <div className="cfg-preview">
            <Button small busy={preview.busy} disabled={!value.condition.trim()} onClick={count}>
              Count matching profiles
            </Button>
            {preview.text && <span role="status">{preview.text}</span>}
            {preview.error && (
              <span className="field-error" role="status">
                {preview.error}
              </span>
            )}
          </div>
        }
      />
      <div className="cfg-toggles">
        <Toggle label="Enabled" checked={value.enabled} onChange={(enabled) => set({ enabled })} />
        <Toggle
          label="Remove profiles that stop matching"
          checked={value.remove_when_false}
          onChange={(remove_when_false) => set({ remove_when_false })}
        />
      </div>
    </>
  );
}

const def: EntityDef<Segment> = {
  title: "Segments",
  subtitle: "Groups of profiles, kept up to date after every event by a condition.",
  noun: "segment",
  list: "/segments",
  item: "/segment",
  about: (
    <>
      A segment puts profiles that meet a condition into a group (e.g. “big spenders”: more than 5 orders). It is checked after
      each event; profiles in it carry its name in their segments, which workflows, destinations and searches can use.
    </>
  ),
  Form: SegmentForm,
  columns: [
    nameColumn((r) => r.description || r.machine_name),
    { key: "condition", title: "Condition", render: (r) => <span className="cfg-code" title={r.condition}>{r.condition}</span> },
    {
      key: "events",
      title: "Event types",
      render: (r) =>
        r.eventType?.length ? (
          <span className="cfg-chips">
            {r.eventType.map((t) => (
              <Badge key={t}>{t}</Badge>
            ))}
          </span>
        ) : (
          <span className="muted">Any</span>
        ),
    },
    { key: "count", title: "Profiles", className: "num", render: (r) => (typeof r.count === "number" ? r.count.toLocaleString() : "—") },
  ],
  search: (r) => [r.condition, r.machine_name, r.eventType],
  blank: () => ({ name: "", description: "", eventType: [], condition: "", enabled: true, remove_when_false: false }),
  prepare: (r) => without(r, ["count"]),
  actions: (reload) => <RunNow reload={reload} />,
  check: (r) => ({
    ...(r.name.trim() ? {} : { name: "A segment needs a name." }),
    ...(r.condition.trim() ? {} : { condition: "A segment needs a condition." }),
  }),
};

interface JobSummary {
  profiles: number;
  seconds: number;
  segments: { machine_name: string; added: number; removed: number }[];
}

/** Batch segmentation now (POST /segments/run), rather than at the server's next hourly run. */
function RunNow({ reload }: { reload: () => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <Button
      busy={busy}
      title="Re-evaluate every enabled segment over every stored profile now"
      onClick={async () => {
        setBusy(true);
        try {
          const r = await api.post<JobSummary>("/segments/run", {});
          const added = r.segments.reduce((n, s) => n + s.added, 0);
          const removed = r.segments.reduce((n, s) => n + s.removed, 0);
          toast(`Segmentation ran over ${r.profiles.toLocaleString()} profiles: ${added} added, ${removed} removed`);
          reload();
        } catch (e) {
          toastError(e);
        } finally {
          setBusy(false);
        }
      }}
    >
      Run segmentation now
    </Button>
  );
}

export default function Segments() {
  return <EntityPage def={def} />;
}
