// Form controls the config screens share: event types with suggestions, sources, resources,
// conditions with their syntax at hand, row editors and labelled JSON editors.
import { ReactNode, useEffect, useId, useState } from "react";
import { api, getContext } from "../api";
import { Button, Field, TagsField } from "../ui/kit";
import { JsonEditor } from "../ui/json";
import { refId } from "./logic";

/** Loads once per data context and caches: lists that many forms offer (event types, sources). */
export function cached<T>(load: () => Promise<T>): () => Promise<T> {
  const memo = new Map<string, Promise<T>>();
  return () => {
    const ctx = getContext();
    let p = memo.get(ctx);
    if (!p) {
      p = load().catch((e) => {
        memo.delete(ctx); // a failure (e.g. 403 for a marketer) is retried next time
        throw e;
      });
      memo.set(ctx, p);
    }
    return p;
  };
}
export function useCached<T>(get: () => Promise<T>, fallback: T): T {
  const [v, setV] = useState<T>(fallback);
  useEffect(() => {
    let live = true;
    get().then(
      (x) => live && setV(x),
      () => {
        /* suggestions only: without them the field is free text */
      },
    );
    return () => {
      live = false;
    };
  }, [get]);
  return v;
}

export interface BuiltInType {
  id: string;
  name: string;
  group: string;
  description?: string;
}
export const builtInTypes = cached(async () => {
  const r = await api.get<{ grouped: Record<string, BuiltInType[]> }>("/event-types/build-in/by_type");
  return Object.values(r.grouped).flat();
});
export const eventSources = cached(async () => {
  const r = await api.get<{ result: { id: string; name: string }[] }>("/event-sources", { query: { limit: 1000, sort: "name" } });
  return r.result;
});

/** A datalist of the built-in event types, for inputs that take an event type. */
function EventTypeList({ id }: { id: string }) {
  const types = useCached(builtInTypes, [] as BuiltInType[]);
  return (
    <datalist id={id}>
      {types.map((t) => (
        <option key={t.id} value={t.id}>
          {t.name}
        </option>
      ))}
    </datalist>
  );
}

/** One event type: free text with the built-in types suggested. */
export function EventTypeField(props: { label?: string; value: string; onChange: (v: string) => void; error?: string; hint?: ReactNode; required?: boolean }) {
  const list = useId();
  return (
    <Field label={props.label ?? "Event type"} error={props.error} hint={props.hint ?? "The event's type, e.g. purchase or one of the built-in types."}>
      {(id) => (
        <>
          <input id={id} list={list} value={props.value} required={props.required} onChange={(e) => props.onChange(e.target.value)} placeholder="e.g. page-view" />
          <EventTypeList id={list} />
        </>
      )}
    </Field>
  );
}

/** A list of event types as chips, with the built-in types suggested. */
export function EventTypesField(props: { label: string; value: string[]; onChange: (v: string[]) => void; hint?: ReactNode; error?: string }) {
  const list = useId();
  return <TagsField {...props} placeholder="Type an event type and press Enter" suggest={{ id: list, list: <EventTypeList id={list} /> }} />;
}

/** An event source, or any. The value is the source's id ("" = any). */
export function SourceSelect(props: { label?: string; value: string; onChange: (id: string, name: string) => void; error?: string; hint?: ReactNode }) {
  const sources = useCached(eventSources, [] as { id: string; name: string }[]);
  const known = sources.some((s) => s.id === props.value);
  return (
    <Field label={props.label ?? "Event source"} error={props.error} hint={props.hint}>
      {(id) => (
        <select
          id={id}
          value={props.value}
          onChange={(e) => {
            const s = sources.find((x) => x.id === e.target.value);
            props.onChange(e.target.value, s?.name ?? "");
          }}
        >
          <option value="">Any source</option>
          {props.value && !known && <option value={props.value}>{props.value}</option>}
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name || s.id}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A condition in the condition language, with its syntax one click away. */
export function ConditionField(props: {
  label?: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  hint?: ReactNode;
  sources?: string; // which `source@` prefixes make sense here
  placeholder?: string;
  extra?: ReactNode;
}) {
  return (
    <div className="cfg-condition">
      <Field label={props.label ?? "Condition"} error={props.error} hint={props.hint}>
        {(id) => (
          <textarea
            id={id}
            className="mono"
            rows={3}
            spellCheck={false}
            value={props.value}
            placeholder={props.placeholder ?? 'profile@stats.visits > 3 AND profile@data.contact.email.main EXISTS'}
            onChange={(e) => props.onChange(e.target.value)}
          />
        )}
      </Field>
      {props.extra}
      <details className="cfg-help">
        <summary>Condition syntax</summary>
        <ul>
          <li>
            Fields: <code>{props.sources ?? "profile@…, event@…, session@…"}</code>, e.g. <code>profile@data.contact.email.main</code>,{" "}
            <code>event@properties.total</code>.
          </li>
          <li>
            Compare: <code>==</code> <code>!=</code> <code>&gt;</code> <code>&gt;=</code> <code>&lt;</code> <code>&lt;=</code>,{" "}
            <code>BETWEEN 1 AND 5</code>, <code>CONTAINS "x"</code>, <code>STARTS WITH "x"</code>, <code>ENDS WITH "x"</code>.
          </li>
          <li>
            Tests: <code>EXISTS</code>, <code>NOT EXISTS</code>, <code>EMPTY</code>, <code>NOT EMPTY</code>, <code>IS NULL</code>, <code>IS NOT NULL</code>.
          </li>
          <li>
            Values: <code>"text"</code>, numbers, <code>true</code>/<code>false</code>/<code>null</code>, lists <code>["a", "b"]</code> (== on a list means “one of”).
          </li>
          <li>
            Functions: <code>now()</code>, <code>now.offset("-30d")</code>, <code>datetime(…)</code>, <code>lowercase(…)</code>, <code>uppercase(…)</code>.
          </li>
          <li>
            Combine with <code>AND</code> / <code>OR</code>; mixing both needs parentheses: <code>(a OR b) AND c</code>.
          </li>
          <li>
            Example: <code>profile@stats.counters.orders &gt; 5 AND profile@metadata.time.visit.last &gt; now.offset("-30d")</code>
          </li>
        </ul>
      </details>
    </div>
  );
}

/** A labelled JSON editor that tells the form while its text does not parse. */
export function JsonField(props: {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  part: string;
  setInvalid: (part: string, bad: boolean) => void;
  error?: string;
  hint?: ReactNode;
  rows?: number;
  /** Only objects are accepted (the usual case). */
  object?: boolean;
}) {
  const [notObject, setNotObject] = useState(false);
  return (
    <div className="cfg-json">
      <JsonEditor
        label={props.label}
        value={props.value}
        rows={props.rows ?? 10}
        onChange={(v) => {
          const bad = props.object !== false && (!v || typeof v !== "object" || Array.isArray(v));
          setNotObject(bad);
          props.setInvalid(props.part, bad);
          if (!bad) props.onChange(v);
        }}
        onValidity={(ok) => props.setInvalid(props.part, !ok)}
      />
      {notObject && <div className="field-error">Must be a JSON object: {"{ … }"}</div>}
      {props.error ? <div className="field-error">{props.error}</div> : props.hint && <div className="field-hint">{props.hint}</div>}
    </div>
  );
}

/** Rows of two text fields (and optionally a select between them), e.g. event field → profile field. */
export interface PairRow {
  left: string;
  right: string;
  mid?: string;
}
export function PairsEditor(props: {
  label: string;
  rows: PairRow[];
  onChange: (rows: PairRow[]) => void;
  leftLabel: string;
  rightLabel: string;
  leftPlaceholder?: string;
  rightPlaceholder?: string;
  mid?: { label: string; options: readonly { value: string; label: string }[] };
  addLabel: string;
  error?: string;
  rowError?: (i: number) => string | undefined;
  hint?: ReactNode;
  blank?: PairRow;
}) {
  const upd = (i: number, patch: Partial<PairRow>) => props.onChange(props.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className={`cfg-pairs${props.error ? " field-invalid" : ""}`}>
      <legend>{props.label}</legend>
      {props.rows.length > 0 && (
        <div className={`cfg-pairs-head${props.mid ? " cfg-pairs-3" : ""}`} aria-hidden>
          <span>{props.leftLabel}</span>
          <span>{props.mid ? props.mid.label : ""}</span>
          <span>{props.rightLabel}</span>
          <span />
        </div>
      )}
      {props.rows.map((r, i) => {
        const e = props.rowError?.(i);
        return (
          <div key={i} className={`cfg-pair${props.mid ? " cfg-pairs-3" : ""}${e ? " cfg-pair-bad" : ""}`}>
            <input
              className="input mono"
              aria-label={`${props.leftLabel} ${i + 1}`}
              value={r.left}
              placeholder={props.leftPlaceholder}
              onChange={(x) => upd(i, { left: x.target.value })}
            />
            {props.mid && (
              <select className="input" aria-label={`${props.mid.label} ${i + 1}`} value={r.mid} onChange={(x) => upd(i, { mid: x.target.value })}>
                {props.mid.options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            )}
            {!props.mid && (
              <span className="cfg-arrow" aria-hidden>
                →
              </span>
            )}
            <input
              className="input mono"
              aria-label={`${props.rightLabel} ${i + 1}`}
              value={r.right}
              placeholder={props.rightPlaceholder}
              onChange={(x) => upd(i, { right: x.target.value })}
            />
            <button type="button" className="icon-btn cfg-remove" aria-label={`Remove row ${i + 1}`} onClick={() => props.onChange(props.rows.filter((_, j) => j !== i))}>
              ×
            </button>
            {e && <div className="field-error cfg-pair-error">{e}</div>}
          </div>
        );
      })}
      <Button small onClick={() => props.onChange([...props.rows, props.blank ?? { left: "", right: "", mid: props.mid?.options[0]?.value }])}>
        + {props.addLabel}
      </Button>
      {props.error ? <div className="field-error">{props.error}</div> : props.hint && <div className="field-hint">{props.hint}</div>}
    </fieldset>
  );
}

/** The id of a reference field as a form value, and back as the API's {id, name}. */
export function toRef(id: string, name?: string): { id: string; name: string } {
  return { id, name: name ?? id };
}
export { refId };
