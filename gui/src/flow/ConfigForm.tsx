// The node configuration form, generated from the plugin's JSON Schema of `init`.
import { useEffect, useState, type ReactNode } from "react";
import { Field, TagsField, Toggle } from "../ui/kit";
import { JsonEditor } from "../ui/json";
import type { JsonSchema } from "./graph";
import {
  asList, fieldsFromSchema, getAt, oneOrMany, parseJsonText, parseNumberOrText, setAt, showJsonText, type FormField,
} from "./schemaForm";

export function ConfigForm(props: { schema?: JsonSchema; value: unknown; onChange: (v: unknown) => void }) {
  const fields = fieldsFromSchema(props.schema);
  if (!fields.length)
    return <p className="muted">This plugin has no settings. Connect it and it is ready to run.</p>;
  return (
    <div className="flow-form">
      {fields.map((f) => (
        <FieldView key={f.key} f={f} root={props.value} onRoot={props.onChange} />
      ))}
    </div>
  );
}

function Label({ f }: { f: FormField }) {
  // the required mark is drawn by CSS, so the field's label stays its plain title
  return f.required ? (
    <span className="flow-required" title="Required">
      {f.label}
    </span>
  ) : (
    <>{f.label}</>
  );
}

function FieldView({ f, root, onRoot }: { f: FormField; root: unknown; onRoot: (v: unknown) => void }) {
  const v = getAt(root, f.path);
  const set = (x: unknown) => onRoot(setAt(root, f.path, x));
  const empty = f.required && (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length));
  const err = empty ? "Required" : undefined;
  switch (f.kind) {
    case "group":
      return (
        <fieldset className="flow-fieldset">
          <legend>
            <Label f={f} />
          </legend>
          {f.hint && <div className="field-hint">{f.hint}</div>}
          {(f.children ?? []).map((c) => (
            <FieldView key={c.key} f={c} root={root} onRoot={onRoot} />
          ))}
        </fieldset>
      );
    case "boolean":
      return <Toggle label={f.label} hint={f.hint} checked={!!v} onChange={set} />;
    case "select":
      return (
        <Field label={<Label f={f} />} hint={f.hint} error={err}>
          {(id) => (
            <select id={id} value={typeof v === "string" ? v : ""} onChange={(e) => set(e.target.value)}>
              {typeof v !== "string" && <option value="">Choose…</option>}
              {(f.options ?? []).map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          )}
        </Field>
      );
    case "number":
      return (
        <Field label={<Label f={f} />} hint={f.hint} error={err}>
          {(id) => (
            <input
              id={id}
              type="number"
              value={typeof v === "number" ? v : typeof v === "string" ? v : ""}
              onChange={(e) => set(e.target.value === "" ? null : Number(e.target.value))}
            />
          )}
        </Field>
      );
    case "numberOrText":
      return (
        <Field label={<Label f={f} />} hint={f.hint ?? "A number, or a reference such as profile@stats.visits"} error={err}>
          {(id) => (
            <input id={id} value={v === undefined || v === null ? "" : String(v)} onChange={(e) => set(parseNumberOrText(e.target.value, !!f.numberFirst))} />
          )}
        </Field>
      );
    case "textarea":
      return (
        <Field label={<Label f={f} />} hint={f.hint} error={err}>
          {(id) => <textarea id={id} className="mono" rows={3} value={typeof v === "string" ? v : ""} onChange={(e) => set(e.target.value)} />}
        </Field>
      );
    case "text":
      return (
        <Field label={<Label f={f} />} hint={f.hint} error={err}>
          {(id) => <input id={id} value={typeof v === "string" ? v : v === null || v === undefined ? "" : String(v)} onChange={(e) => set(e.target.value)} />}
        </Field>
      );
    case "tags":
      return <TagsField label={<Label f={f} />} hint={f.hint} value={asList(v)} onChange={set} />;
    case "tagsLoose":
      if (v === undefined || v === null || (Array.isArray(v) && v.every((x) => typeof x === "string")))
        return <TagsField label={<Label f={f} />} hint={f.hint} value={asList(v)} onChange={set} />;
      return (
        <div className="flow-json-field">
          <JsonEditor label={f.label} value={v} rows={5} onChange={set} />
          {f.hint && <div className="field-hint">{f.hint}</div>}
        </div>
      );
    case "oneOrMany":
      return <TagsField label={<Label f={f} />} hint={f.hint ?? "One value, or several"} value={asList(v)} onChange={(l) => set(oneOrMany(l))} />;
    case "map":
      return <MapField f={f} value={v} onChange={set} label={<Label f={f} />} />;
    case "jsonText":
      return <JsonTextField f={f} value={v} onChange={set} label={<Label f={f} />} />;
    default:
      return (
        <div className="flow-json-field">
          <JsonEditor label={f.label} value={v ?? null} rows={5} onChange={set} />
          {f.hint && <div className="field-hint">{f.hint}</div>}
        </div>
      );
  }
}

/** Key -> value rows, e.g. Copy data's "target ← source". */
function MapField(props: { f: FormField; value: unknown; onChange: (v: unknown) => void; label: ReactNode }) {
  const obj = props.value && typeof props.value === "object" && !Array.isArray(props.value) ? (props.value as Record<string, unknown>) : {};
  const complex = Object.values(obj).some((x) => x !== null && typeof x === "object");
  // rows are kept locally so a half-typed key does not collide with another
  const [rows, setRows] = useState<[string, string][]>(() => {
    const r = Object.entries(obj).map(([k, x]): [string, string] => [k, x === null || x === undefined ? "" : String(x)]);
    return r.length ? r : [["", ""]]; // an empty map shows one row to fill in
  });
  useEffect(() => {
    const cur = Object.fromEntries(rows.filter(([k]) => k !== ""));
    if (JSON.stringify(cur) !== JSON.stringify(Object.fromEntries(Object.entries(obj).map(([k, x]) => [k, String(x ?? "")]))))
      setRows(Object.entries(obj).map(([k, x]) => [k, x === null || x === undefined ? "" : String(x)]));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(props.value)]);
  if (complex)
    return (
      <div className="flow-json-field">
        <JsonEditor label={props.f.label} value={obj} rows={5} onChange={props.onChange} />
      </div>
    );
  const commit = (r: [string, string][]) => {
    setRows(r);
    props.onChange(Object.fromEntries(r.filter(([k]) => k.trim() !== "")));
  };
  return (
    <div className="field">
      <label>{props.label}</label>
      {props.f.hint && <div className="field-hint">{props.f.hint}</div>}
      <div className="flow-map">
        {rows.map(([k, x], i) => (
          <div className="flow-map-row" key={i}>
            <input aria-label={`${props.f.label} key ${i + 1}`} placeholder="profile@traits.field" value={k} onChange={(e) => commit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />
            <span aria-hidden className="muted">
              ←
            </span>
            <input aria-label={`${props.f.label} value ${i + 1}`} placeholder="event@properties.field" value={x} onChange={(e) => commit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />
            <button type="button" className="icon-btn" aria-label={`Remove row ${i + 1}`} onClick={() => commit(rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        ))}
        <button type="button" className="btn btn-small btn-ghost flow-map-add" onClick={() => setRows([...rows, ["", ""]])}>
          + Add row
        </button>
      </div>
    </div>
  );
}

/** An object template: JSON, or text with {{references}}. */
function JsonTextField(props: { f: FormField; value: unknown; onChange: (v: unknown) => void; label: ReactNode }) {
  const [text, setText] = useState(() => showJsonText(props.value));
  useEffect(() => {
    if (JSON.stringify(parseJsonText(text)) !== JSON.stringify(props.value) && text !== props.value) setText(showJsonText(props.value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(props.value)]);
  return (
    <Field label={props.label} hint={props.f.hint ?? 'JSON; string values such as "event@properties.total" are read from the data'}>
      {(id) => (
        <textarea
          id={id}
          className="mono"
          rows={5}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            props.onChange(parseJsonText(e.target.value));
          }}
        />
      )}
    </Field>
  );
}
