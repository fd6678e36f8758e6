// Create or edit an event source in a modal; the server's 422 detail shows under the field it names.
import { useState } from "react";
import { api, ApiError } from "../api";
import { ErrorBox, FormModal, TagsField, TextField, Toggle } from "../ui/kit";
import { toast } from "../ui/toast";
import { fieldError } from "./routing";
import { BRIDGES, type EventSource } from "./types";
import "./inbound.css";

const FIELDS = ["id", "name", "type", "description", "channel", "tags"] as const;

export function SourceForm(props: { source?: EventSource; onClose: () => void; onSaved: (s: EventSource) => void }) {
  const editing = !!props.source;
  const [f, setF] = useState(() => ({
    id: props.source?.id ?? "",
    name: props.source?.name ?? "",
    type: props.source?.type?.length ? [...props.source.type] : ["rest"],
    description: props.source?.description ?? "",
    channel: props.source?.channel ?? "",
    tags: props.source?.tags ?? [],
    enabled: props.source?.enabled ?? true,
    transitional: props.source?.transitional ?? false,
  }));
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field?: string; message: string }>();
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((o) => ({ ...o, [k]: v }));
  const fe = (k: string) => (err?.field === k ? err.message : undefined);

  const save = async () => {
    if (!f.name.trim()) return setErr({ field: "name", message: "A source needs a name." });
    if (!f.type.length) return setErr({ field: "type", message: "Choose at least one bridge type." });
    setBusy(true);
    setErr(undefined);
    try {
      // keep the fields this form does not show (returns_profile, locked, …) as they were
      const body: Record<string, unknown> = {
        ...(props.source ?? {}),
        name: f.name.trim(),
        type: f.type,
        description: f.description,
        channel: f.channel.trim(),
        tags: f.tags,
        enabled: f.enabled,
        transitional: f.transitional,
      };
      if (!editing) {
        if (f.id.trim()) body.id = f.id.trim();
        else delete body.id;
      }
      const saved = await api.post<EventSource>("/event-source", body);
      toast(editing ? "Event source saved" : "Event source created");
      props.onSaved(saved);
    } catch (e) {
      setErr(e instanceof ApiError ? fieldError(e.message, FIELDS) : { message: (e as Error).message });
      setBusy(false);
    }
  };

  return (
    <FormModal title={editing ? "Edit event source" : "New event source"} onClose={props.onClose} onSave={save} busy={busy}>
      <TextField label="Name" value={f.name} onChange={(v) => set("name", v)} error={fe("name")} autoFocus required />
      {editing ? (
        <p className="inb-readonly">
          <span className="muted">ID</span> <code>{f.id}</code>
        </p>
      ) : (
        <TextField
          label="ID"
          value={f.id}
          onChange={(v) => set("id", v)}
          mono
          error={fe("id")}
          placeholder="leave empty for a random id"
          hint="The source id the tracker sends. Optional: cdpd makes a UUID."
        />
      )}
      <fieldset className={`inb-fieldset${fe("type") ? " field-invalid" : ""}`}>
        <legend>Bridge types</legend>
        {BRIDGES.map((b) => (
          <label key={b.id} className="inb-check">
            <input
              type="checkbox"
              aria-label={b.label}
              checked={f.type.includes(b.id)}
              onChange={(e) => set("type", e.target.checked ? [...f.type, b.id] : f.type.filter((t) => t !== b.id))}
            />
            <span>
              {b.label} <span className="field-hint">{b.hint}</span>
            </span>
          </label>
        ))}
        {fe("type") && <div className="field-error">{fe("type")}</div>}
      </fieldset>
      <TextField label="Description" value={f.description} onChange={(v) => set("description", v)} multiline rows={2} error={fe("description")} />
      <TextField label="Channel" value={f.channel} onChange={(v) => set("channel", v)} placeholder="web, mobile, email…" error={fe("channel")} hint="Stored in the events' metadata.channel." />
      <TagsField label="Tags" value={f.tags} onChange={(v) => set("tags", v)} />
      <Toggle label="Enabled" checked={f.enabled} onChange={(v) => set("enabled", v)} />
      <Toggle label="Transitional" checked={f.transitional} onChange={(v) => set("transitional", v)} />
      <p className="field-hint inb-toggle-hint">
        The collector refuses a disabled source (403). A transitional source's events and sessions run through the workflows but are not
        stored.
      </p>
      {err && !err.field && <ErrorBox error={err.message} />}
    </FormModal>
  );
}
