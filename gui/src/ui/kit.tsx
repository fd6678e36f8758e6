// The GUI's building blocks: every page is made of these, so screens look and behave alike.
import { ReactNode, useEffect, useId, useRef, useState } from "react";
import { ApiError } from "../api";
import type { Loaded } from "./hooks";

function hasDetail(body: unknown): boolean {
  return typeof body === "object" && body !== null && "detail" in body;
}

export function Page(props: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>{props.title}</h1>
          {props.subtitle && <p className="muted">{props.subtitle}</p>}
        </div>
        {props.actions && <div className="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

type ButtonProps = React.ButtonHTMLAttributes<HTMLButtonElement> & {
  kind?: "primary" | "secondary" | "danger" | "ghost";
  busy?: boolean;
  small?: boolean;
};
export function Button({ kind = "secondary", busy, small, className, children, disabled, ...rest }: ButtonProps) {
  return (
    <button
      type="button"
      className={`btn btn-${kind}${small ? " btn-small" : ""}${className ? " " + className : ""}`}
      disabled={disabled || busy}
      {...rest}
    >
      {busy && <span className="spinner spinner-inline" aria-hidden />}
      {children}
    </button>
  );
}

export function Card(props: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={`card${props.className ? " " + props.className : ""}`}>
      {(props.title || props.actions) && (
        <div className="card-head">
          {props.title && <h2>{props.title}</h2>}
          {props.actions}
        </div>
      )}
      {props.children}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden /> {label}
    </div>
  );
}

export function ErrorBox({ error, retry, title = "Something went wrong." }: { error: Error | string; retry?: () => void; title?: string }) {
  // no answer, or a proxy's 5xx without cdpd's {detail}: say what that most likely means
  const down = error instanceof ApiError && (error.status === 0 || (error.status >= 500 && !hasDetail(error.body)));
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong> <span>{typeof error === "string" ? error : error.message}</span>
      {down && <span className="state-hint">cdpd may be stopped or restarting; try again in a moment.</span>}
      {retry && (
        <Button small onClick={retry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

/** Loading, error and empty states of a loaded value in one place. */
export function Async<T>(props: {
  value: Loaded<T>;
  empty?: (d: T) => boolean;
  emptyView?: ReactNode;
  children: (d: T) => ReactNode;
}) {
  const { data, error, loading, reload } = props.value;
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (data === undefined) return loading ? <Loading /> : null;
  if (props.empty?.(data)) return <>{props.emptyView ?? <Empty title="Nothing here yet" />}</>;
  return <>{props.children(data)}</>;
}

export interface Column<T> {
  key: string;
  title: ReactNode;
  render: (row: T) => ReactNode;
  className?: string;
}
export function Table<T>(props: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (r: T) => string;
  onRow?: (r: T) => void;
  selected?: string;
  /** false when a cell already holds a button or link that opens the row: one tab stop, not two */
  focusRows?: boolean;
}) {
  const focusable = !!props.onRow && props.focusRows !== false;
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.key} className={c.className}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => {
            const k = props.rowKey(r);
            return (
              <tr
                key={k}
                className={`${props.onRow ? "clickable" : ""}${props.selected === k ? " selected" : ""}`}
                onClick={props.onRow ? () => props.onRow!(r) : undefined}
                // keyboard users reach and open a clickable row as mouse users do
                tabIndex={focusable ? 0 : undefined}
                onKeyDown={
                  focusable
                    ? (e) => {
                        if (e.target === e.currentTarget && (e.key === "Enter" || e.key === " ")) {
                          e.preventDefault();
                          props.onRow!(r);
                        }
                      }
                    : undefined
                }
              >
                {props.columns.map((c) => (
                  <td key={c.key} className={c.className} data-label={typeof c.title === "string" ? c.title : undefined}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Pager(props: { page: number; size: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(props.total / props.size));
  if (props.total <= props.size && props.page === 0) return null;
  return (
    <div className="pager">
      <Button small disabled={props.page <= 0} onClick={() => props.onPage(props.page - 1)}>
        ‹ Previous
      </Button>
      <span className="muted">
        Page {props.page + 1} of {pages} · {props.total.toLocaleString()} in all
      </span>
      <Button small disabled={props.page + 1 >= pages} onClick={() => props.onPage(props.page + 1)}>
        Next ›
      </Button>
    </div>
  );
}

export function Tabs(props: { tabs: { id: string; label: ReactNode }[]; value: string; onChange: (id: string) => void }) {
  return (
    <div className="tabs" role="tablist">
      {props.tabs.map((t) => (
        <button
          type="button"
          role="tab"
          key={t.id}
          aria-selected={props.value === t.id}
          className={`tab${props.value === t.id ? " active" : ""}`}
          onClick={() => props.onChange(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function Modal(props: { title: ReactNode; onClose: () => void; children: ReactNode; footer?: ReactNode; wide?: boolean }) {
  useEscape(props.onClose);
  const ref = useDialogFocus<HTMLDivElement>();
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        ref={ref}
        tabIndex={-1}
        onKeyDown={trapTab}
        className={`modal${props.wide ? " modal-wide" : ""}`}
        role="dialog"
        aria-modal="true"
        aria-label={typeof props.title === "string" ? props.title : undefined}
      >
        <div className="modal-head">
          <h2>{props.title}</h2>
          <button type="button" className="icon-btn" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </div>
        <div className="modal-body">{props.children}</div>
        {props.footer && <div className="modal-foot">{props.footer}</div>}
      </div>
    </div>
  );
}

/** A form in a dialog: Cancel and Save below, Enter in a field saves too. */
export function FormModal(props: { title: ReactNode; onClose: () => void; onSave: () => void; busy?: boolean; children: ReactNode }) {
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button kind="primary" busy={props.busy} onClick={props.onSave}>
            Save
          </Button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          props.onSave();
        }}
      >
        {props.children}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

/** A panel sliding in from the right, for the details of a row. */
export function Drawer(props: { title: ReactNode; onClose: () => void; children: ReactNode; actions?: ReactNode }) {
  useEscape(props.onClose);
  const ref = useDialogFocus<HTMLElement>();
  return (
    <div className="overlay overlay-drawer" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <aside
        ref={ref}
        tabIndex={-1}
        onKeyDown={trapTab}
        className="drawer"
        role="dialog"
        aria-modal="true"
        aria-label={typeof props.title === "string" ? props.title : undefined}
      >
        <div className="modal-head">
          <h2>{props.title}</h2>
          <div className="row">
            {props.actions}
            <button type="button" className="icon-btn" aria-label="Close" onClick={props.onClose}>
              ×
            </button>
          </div>
        </div>
        <div className="drawer-body">{props.children}</div>
      </aside>
    </div>
  );
}

/** Moves focus into a dialog when it opens (unless a field took it with autoFocus) and gives it
 * back to what had it when the dialog closes, so keyboard users stay where they were. */
function useDialogFocus<E extends HTMLElement>() {
  const ref = useRef<E>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = ref.current;
    if (el && !el.contains(document.activeElement)) el.focus({ preventScroll: true });
    return () => {
      if (before && document.contains(before)) before.focus({ preventScroll: true });
    };
  }, []);
  return ref;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
/** Tab and Shift+Tab cycle within the dialog instead of leaving it for the page behind. */
function trapTab(e: React.KeyboardEvent<HTMLElement>) {
  if (e.key !== "Tab" || e.defaultPrevented) return; // an inner dialog handled it
  const all = Array.from(e.currentTarget.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((x) => x.offsetParent !== null);
  if (!all.length) return;
  const first = all[0];
  const last = all[all.length - 1];
  if (e.shiftKey && (document.activeElement === first || document.activeElement === e.currentTarget)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

function useEscape(fn: () => void) {
  useEffect(() => {
    const h = (e: KeyboardEvent) => e.key === "Escape" && fn();
    window.addEventListener("keydown", h);
    return () => window.removeEventListener("keydown", h);
  }, [fn]);
}

/** Asks before something that cannot be taken back. */
export function Confirm(props: { title: string; text: ReactNode; confirm?: string; onConfirm: () => Promise<unknown> | void; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>();
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button
            kind="danger"
            busy={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await props.onConfirm();
                props.onClose();
              } catch (e) {
                setErr((e as Error).message);
                setBusy(false);
              }
            }}
          >
            {props.confirm ?? "Delete"}
          </Button>
        </>
      }
    >
      <p>{props.text}</p>
      {err && <ErrorBox error={err} />}
    </Modal>
  );
}

/** A labelled form control; `hint` says what the field is for, `error` what is wrong with it. */
export function Field(props: { label: ReactNode; hint?: ReactNode; error?: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className={`field${props.error ? " field-invalid" : ""}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id)}
      {props.error ? <div className="field-error">{props.error}</div> : props.hint && <div className="field-hint">{props.hint}</div>}
    </div>
  );
}

export function TextField(props: {
  label: ReactNode;
  value: string;
  onChange: (v: string) => void;
  hint?: ReactNode;
  error?: string;
  placeholder?: string;
  type?: string;
  multiline?: boolean;
  rows?: number;
  required?: boolean;
  disabled?: boolean;
  mono?: boolean;
  autoFocus?: boolean;
  autoComplete?: string;
}) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error}>
      {(id) =>
        props.multiline ? (
          <textarea
            id={id}
            className={props.mono ? "mono" : undefined}
            rows={props.rows ?? 4}
            value={props.value}
            placeholder={props.placeholder}
            disabled={props.disabled}
            onChange={(e) => props.onChange(e.target.value)}
          />
        ) : (
          <input
            id={id}
            className={props.mono ? "mono" : undefined}
            type={props.type ?? "text"}
            value={props.value}
            placeholder={props.placeholder}
            required={props.required}
            disabled={props.disabled}
            autoFocus={props.autoFocus}
            autoComplete={props.autoComplete}
            onChange={(e) => props.onChange(e.target.value)}
          />
        )
      }
    </Field>
  );
}

export function SelectField(props: {
  label: ReactNode;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
  hint?: ReactNode;
  error?: string;
  disabled?: boolean;
}) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error}>
      {(id) => (
        <select id={id} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.target.value)}>
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Toggle(props: { label: ReactNode; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode }) {
  return (
    <label className="toggle">
      <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <span className="toggle-track" aria-hidden />
      <span>
        {props.label}
        {props.hint && <span className="field-hint"> {props.hint}</span>}
      </span>
    </label>
  );
}

/** A list of short strings (tags, event types) edited as chips. */
export function TagsField(props: {
  label: ReactNode;
  value: string[];
  onChange: (v: string[]) => void;
  hint?: ReactNode;
  error?: string;
  placeholder?: string;
  /** Suggestions: a <datalist> rendered beside the input, and its id. */
  suggest?: { id: string; list: ReactNode };
}) {
  const [text, setText] = useState("");
  const add = () => {
    const t = text.trim();
    if (t && !props.value.includes(t)) props.onChange([...props.value, t]);
    setText("");
  };
  return (
    <Field label={props.label} hint={props.hint} error={props.error}>
      {(id) => (
        <div className="tags-input">
          {props.value.map((t) => (
            <span key={t} className="chip">
              {t}
              <button type="button" aria-label={`Remove ${t}`} onClick={() => props.onChange(props.value.filter((x) => x !== t))}>
                ×
              </button>
            </span>
          ))}
          <input
            id={id}
            list={props.suggest?.id}
            value={text}
            placeholder={props.placeholder ?? "Type and press Enter"}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" || e.key === ",") {
                e.preventDefault();
                add();
              } else if (e.key === "Backspace" && !text && props.value.length) props.onChange(props.value.slice(0, -1));
            }}
            onBlur={add}
          />
          {props.suggest?.list}
        </div>
      )}
    </Field>
  );
}

export function Badge({ children, tone = "neutral" }: { children: ReactNode; tone?: "neutral" | "ok" | "warn" | "error" | "info" }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A list's tags as badges, or a dash when there are none. */
export function TagList({ tags }: { tags?: string[] | null }) {
  if (!tags?.length) return <span className="muted">—</span>;
  return (
    <span className="tag-list">
      {tags.map((t) => (
        <Badge key={t}>{t}</Badge>
      ))}
    </span>
  );
}

export function formatDate(v: unknown): string {
  if (typeof v !== "string" && typeof v !== "number") return "—";
  const d = new Date(typeof v === "string" && !/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v + "Z" : v);
  if (isNaN(d.getTime())) return String(v);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function timeAgo(v: unknown): string {
  if (typeof v !== "string") return "—";
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : v + "Z").getTime();
  if (isNaN(d)) return v;
  const s = Math.round((Date.now() - d) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
