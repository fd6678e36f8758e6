import { useEffect, useId, useState } from "react";
import { copyText } from "./copy";
import { Button } from "./kit";

/** Read-only JSON, folded past `open` levels, with a copy button. */
export function JsonView({ value, open = 2 }: { value: unknown; open?: number }) {
  return (
    <div className="json-view">
      <Button
        small
        kind="ghost"
        className="json-copy"
        onClick={() => copyText(JSON.stringify(value, null, 2))}
      >
        Copy
      </Button>
      <JsonNode value={value} depth={0} open={open} />
    </div>
  );
}

function JsonNode({ value, depth, open, name }: { value: unknown; depth: number; open: number; name?: string }) {
  const [expanded, setExpanded] = useState(depth < open);
  const label = name !== undefined ? <span className="json-key">{JSON.stringify(name)}: </span> : null;
  if (value === null || typeof value !== "object")
    return (
      <div className="json-line">
        {label}
        <span className={`json-${value === null ? "null" : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  const isArr = Array.isArray(value);
  const entries = isArr ? (value as unknown[]).map((v, i) => [String(i), v] as const) : Object.entries(value as object);
  const [o, c] = isArr ? ["[", "]"] : ["{", "}"];
  if (!entries.length)
    return (
      <div className="json-line">
        {label}
        {o + c}
      </div>
    );
  return (
    <div className="json-line">
      <button type="button" className="json-toggle" onClick={() => setExpanded(!expanded)} aria-label={expanded ? "Fold" : "Unfold"}>
        {expanded ? "▾" : "▸"}
      </button>
      {label}
      {o}
      {expanded ? (
        <div className="json-children">
          {entries.map(([k, v]) => (
            <JsonNode key={k} name={isArr ? undefined : k} value={v} depth={depth + 1} open={open} />
          ))}
        </div>
      ) : (
        <span className="muted" onClick={() => setExpanded(true)}>
          {" "}
          {entries.length} {isArr ? "items" : "keys"}{" "}
        </span>
      )}
      {c}
    </div>
  );
}

/** Editable JSON: `onChange` gets the parsed value only while the text parses. */
export function JsonEditor(props: {
  value: unknown;
  onChange: (v: unknown) => void;
  rows?: number;
  label?: string;
  onValidity?: (ok: boolean) => void;
}) {
  const [text, setText] = useState(() => JSON.stringify(props.value ?? {}, null, 2));
  const [err, setErr] = useState<string>();
  const id = useId();
  // a new value from outside (another node selected) replaces the text
  useEffect(() => {
    let same = false;
    try {
      same = JSON.stringify(JSON.parse(text)) === JSON.stringify(props.value);
    } catch {
      /* the text is being edited */
    }
    if (!same) {
      setText(JSON.stringify(props.value ?? {}, null, 2));
      setErr(undefined);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.value]);
  return (
    <div className={`field${err ? " field-invalid" : ""}`}>
      {props.label && <label htmlFor={id}>{props.label}</label>}
      <textarea
        id={id}
        className="mono json-editor"
        spellCheck={false}
        rows={props.rows ?? 12}
        value={text}
        aria-label={props.label ?? "JSON"}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = JSON.parse(e.target.value);
            setErr(undefined);
            props.onValidity?.(true);
            props.onChange(v);
          } catch (x) {
            setErr((x as Error).message);
            props.onValidity?.(false);
          }
        }}
      />
      {err && <div className="field-error">Not valid JSON: {err}</div>}
    </div>
  );
}
