// A plugin's JSON Schema of `init` turned into a list of form fields (pure, so it is unit-tested).
import type { JsonSchema } from "./graph";

export type FieldKind =
  | "text" // a plain string
  | "textarea" // a condition or a template: long text
  | "select" // an enum
  | "boolean"
  | "number"
  | "numberOrText" // ["number", "string"]: a number, or a reference such as profile@…
  | "tags" // a list of strings
  | "tagsLoose" // a list of strings or objects ({id, name}): chips while all are strings
  | "oneOrMany" // anyOf string | list of strings: kept a string while there is one
  | "map" // an object of text values: key -> value rows
  | "group" // an object with its own properties: nested fields
  | "jsonText" // ["object", "string"]: an object template, edited as JSON but text is allowed
  | "json"; // anything else

export interface FormField {
  key: string;
  path: string[];
  label: string;
  hint?: string;
  required: boolean;
  kind: FieldKind;
  options?: string[];
  numberFirst?: boolean; // numberOrText: store numeric text as a number
  children?: FormField[];
}

function types(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === "string") return [s.type];
  return [];
}

const LONG_FORMATS = new Set(["tql", "template"]);

function isStringList(s: JsonSchema | undefined): boolean {
  if (!s) return false;
  const t = types(s);
  if (t.length === 1 && t[0] === "array") {
    const it = s.items;
    if (!it) return true;
    const it_t = types(it);
    return it_t.length === 1 && it_t[0] === "string";
  }
  return false;
}

export function kindOf(s: JsonSchema): Pick<FormField, "kind" | "options" | "numberFirst"> {
  const t = types(s);
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === "string")) return { kind: "select", options: s.enum as string[] };
  if (t.length === 1) {
    switch (t[0]) {
      case "string":
        return { kind: s.format && LONG_FORMATS.has(s.format) ? "textarea" : "text" };
      case "boolean":
        return { kind: "boolean" };
      case "number":
      case "integer":
        return { kind: "number" };
      case "array":
        if (isStringList(s)) return { kind: "tags" };
        if (s.items?.anyOf?.some((a) => types(a).length === 1 && types(a)[0] === "string")) return { kind: "tagsLoose" };
        return { kind: "json" };
      case "object": {
        if (s.properties && Object.keys(s.properties).length) return { kind: "group" };
        const ap = s.additionalProperties;
        const scalarValues = ap && typeof ap === "object" && types(ap).every((x) => ["string", "number", "boolean"].includes(x));
        if (scalarValues || (s.propertyNames && !ap)) return { kind: "map" };
        return { kind: "json" };
      }
    }
  }
  if (t.length === 2 && t.includes("string") && (t.includes("number") || t.includes("integer")))
    return { kind: "numberOrText", numberFirst: t[0] !== "string" };
  if (t.length === 2 && t.includes("string") && t.includes("object")) return { kind: "jsonText" };
  if (!t.length && Array.isArray(s.anyOf)) {
    const str = s.anyOf.find((a) => types(a).length === 1 && types(a)[0] === "string");
    const list = s.anyOf.find((a) => isStringList(a));
    if (str && list && s.anyOf.length === 2) return { kind: "oneOrMany" };
  }
  return { kind: "json" };
}

/** The fields of an object schema, in the schema's order; nested objects become groups. */
export function fieldsFromSchema(schema: JsonSchema | undefined, path: string[] = []): FormField[] {
  if (!schema || !schema.properties) return [];
  const req = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([key, s]) => {
    const k = kindOf(s);
    const f: FormField = {
      key,
      path: [...path, key],
      label: s.title || humanize(key),
      hint: s.description,
      required: req.has(key),
      ...k,
    };
    if (k.kind === "group") f.children = fieldsFromSchema(s, f.path);
    return f;
  });
}

function humanize(k: string): string {
  const s = k.replace(/[_-]+/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function getAt(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** A copy of `obj` with the value at `path` replaced (objects on the way are created). */
export function setAt<T>(obj: T, path: string[], value: unknown): T {
  if (!path.length) return value as T;
  const base = obj && typeof obj === "object" && !Array.isArray(obj) ? { ...(obj as Record<string, unknown>) } : {};
  const [k, ...rest] = path;
  base[k] = setAt(base[k], rest, value);
  return base as T;
}

/** numberOrText: numeric text becomes a number when the schema prefers numbers. */
export function parseNumberOrText(text: string, numberFirst: boolean): number | string {
  const t = text.trim();
  if (numberFirst && t !== "" && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return text;
}

/** jsonText: text that parses as a JSON object or list is stored parsed, else as text. */
export function parseJsonText(text: string): unknown {
  const t = text.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      /* not JSON yet: keep the text */
    }
  }
  return text;
}
export function showJsonText(v: unknown): string {
  if (typeof v === "string") {
    try {
      const p = JSON.parse(v);
      if (p && typeof p === "object") return JSON.stringify(p, null, 2);
    } catch {
      /* a template text */
    }
    return v;
  }
  if (v === undefined || v === null) return "";
  return JSON.stringify(v, null, 2);
}

/** oneOrMany: one entry stays a plain string, as Tracardi's plugins expect. */
export function oneOrMany(list: string[]): string | string[] {
  if (list.length === 0) return "";
  if (list.length === 1) return list[0];
  return list;
}
export function asList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => typeof x === "string" && x !== "") as string[];
  if (typeof v === "string" && v !== "") return [v];
  return [];
}

/** Fields that are required but empty, for the "required" markers. */
export function missingRequired(fields: FormField[], init: unknown): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const v = getAt(init, f.path);
    if (f.kind === "group" && f.children) out.push(...missingRequired(f.children, init));
    else if (f.required && (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length))) out.push(f.path.join("."));
  }
  return out;
}
