// One list+form screen for every kind of config entity, so segments, consents, destinations
// and the rest behave alike: filter, table, "New …" in a modal, edit on row click, enabled
// toggle, delete with a confirmation, the server's 422 next to the field it names.
import { ReactNode, useCallback, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import { useApi, useDebounced } from "../ui/hooks";
import { Button, Column, Confirm, Empty, ErrorBox, Loading, Modal, Page, Pager, Table, Tabs, Toggle } from "../ui/kit";
import { JsonEditor } from "../ui/json";
import { toast, toastError } from "../ui/toast";
import { fieldErrors, filterRows, pageOf, searchText, splitError, topKey, type Rec } from "./logic";
import "./config.css";

export interface FormProps<T extends Rec> {
  value: T;
  /** Merges a change into the record being edited. */
  set: (patch: Partial<T>) => void;
  /** Errors by field path (and each prefix of it), from the server or `check`. */
  errors: Record<string, string>;
  isNew: boolean;
  /** The path the server's last 422 named (`fields[1].profile_trait`), or "". */
  errorPath: string;
  /** Lets a form tell that one of its JSON editors holds text that does not parse. */
  setInvalid: (part: string, bad: boolean) => void;
}

export interface EntityDef<T extends Rec> {
  title: string;
  subtitle?: ReactNode;
  /** Singular, lower case: "segment" → "New segment", "Edit segment". */
  noun: string;
  /** The button that creates one, when "New <noun>" reads badly. */
  newLabel?: string;
  /** The list route answering {total, result}. */
  list: string;
  /** POST here saves; GET/DELETE `${item}/${id}`. */
  item: string;
  columns: Column<T>[];
  /** Extra text a row is found by, besides name, id and description. */
  search?: (r: T) => unknown[];
  /** What the entity is for: shown when there is none yet. */
  about: ReactNode;
  blank: () => T;
  Form: (p: FormProps<T>) => ReactNode;
  /** Before saving: drop what the server computes (counts, times). */
  prepare?: (r: T) => T;
  /** Errors found before asking the server, by field path. */
  check?: (r: T) => Record<string, string | undefined>;
  /** Turns `enabled` on or off; default: saves the record with `enabled` changed. false: no toggle. */
  toggle?: false | ((r: T, on: boolean) => Promise<unknown>);
  /** Reads the record again before editing (the list's copy may be partial or masked). */
  reloadBeforeEdit?: boolean;
  /** May the user change things here (else read-only). */
  canEdit?: boolean;
  /** Server sort key of the list. */
  sort?: string;
  /** A block shown above the form, e.g. help. */
  formHelp?: (r: T) => ReactNode;
  /** More buttons beside "New …"; `reload` reads the list again. */
  actions?: (reload: () => void) => ReactNode;
}

interface List<T> {
  total: number;
  result: T[];
}

const PAGE = 25;
const FETCH = 1000; // the API's largest page: filtering is done here, over that many

/** The first column of every list: the name, and under it the description (or `sub`). */
export function nameColumn<T extends Rec & { name: string; description?: string }>(
  sub: (r: T) => ReactNode = (r) => r.description,
): Column<T> {
  return {
    key: "name",
    title: "Name",
    render: (r) => (
      <>
        <span className="cfg-name">{r.name}</span>
        <span className="cfg-sub">{sub(r)}</span>
      </>
    ),
  };
}

export function EntityPage<T extends Rec>({ def }: { def: EntityDef<T> }) {
  const [q, setQ] = useState("");
  const dq = useDebounced(q, 150);
  const [page, setPage] = useState(0);
  const [chunk, setChunk] = useState(0);
  const [editing, setEditing] = useState<{ value: T; isNew: boolean } | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  const [busyRow, setBusyRow] = useState<string>();
  const canEdit = def.canEdit !== false;
  const data = useApi(
    (signal) => api.get<List<T>>(def.list, { query: { start: chunk * FETCH, limit: FETCH, sort: def.sort ?? "name" }, signal }),
    [def.list, chunk],
  );
  const rows = useMemo(
    () => filterRows(data.data?.result ?? [], dq, (r) => searchText(r, ...(def.search?.(r) ?? []))),
    [data.data, dq, def],
  );
  const noun = def.noun;
  const Noun = noun[0].toUpperCase() + noun.slice(1);
  const label = (r: T) => r.name || r.id || noun;

  const openEdit = useCallback(
    async (r: T) => {
      if (!def.reloadBeforeEdit || !r.id) return setEditing({ value: r, isNew: false });
      try {
        setBusyRow(r.id);
        setEditing({ value: await api.get<T>(`${def.item}/${encodeURIComponent(r.id)}`), isNew: false });
      } catch (e) {
        toastError(e);
      } finally {
        setBusyRow(undefined);
      }
    },
    [def],
  );

  const toggle = async (r: T, on: boolean) => {
    setBusyRow(r.id);
    try {
      if (def.toggle) await def.toggle(r, on);
      else await api.post(def.item, { ...(def.prepare ? def.prepare(r) : r), enabled: on });
      toast(`${Noun} ${on ? "enabled" : "disabled"}`);
      data.reload();
    } catch (e) {
      toastError(e);
    } finally {
      setBusyRow(undefined);
    }
  };

  const columns: Column<T>[] = [...def.columns];
  if (def.toggle !== false && canEdit)
    columns.push({
      key: "enabled",
      title: "Enabled",
      className: "cfg-col-toggle",
      render: (r) => (
        // the row opens the editor on click: the switch must not
        <span className={`cfg-row-toggle${busyRow === r.id ? " cfg-busy" : ""}`} onClick={(e) => e.stopPropagation()}>
          <Toggle label={<span className="sr-only">Enable {label(r)}</span>} checked={!!r.enabled} onChange={(v) => toggle(r, v)} />
        </span>
      ),
    });
  else if (def.toggle !== false)
    columns.push({ key: "enabled", title: "Enabled", render: (r) => (r.enabled ? "Yes" : "No") });
  if (canEdit)
    columns.push({
      key: "actions",
      title: <span className="sr-only">Actions</span>,
      className: "cfg-col-actions",
      render: (r) => (
        <span onClick={(e) => e.stopPropagation()}>
          <Button small kind="danger" aria-label={`Delete ${label(r)}`} onClick={() => setDeleting(r)}>
            Delete
          </Button>
        </span>
      ),
    });

  const total = data.data?.total ?? 0;
  const loaded = data.data?.result.length ?? 0;
  return (
    <Page
      title={def.title}
      subtitle={def.subtitle}
      actions={
        <>
          {def.actions?.(data.reload)}
          {canEdit && (
            <Button kind="primary" onClick={() => setEditing({ value: def.blank(), isNew: true })}>
              {def.newLabel ?? `New ${noun}`}
            </Button>
          )}
        </>
      }
    >
      <div className="cfg-page">
      {data.error ? (
        <ErrorBox error={data.error} retry={data.reload} />
      ) : !data.data ? (
        <Loading />
      ) : total === 0 && chunk === 0 ? (
        <Empty title={`No ${noun}s yet`}>
          <div className="cfg-about">{def.about}</div>
          {canEdit && <div>Use “{def.newLabel ?? `New ${noun}`}” above to add the first one.</div>}
        </Empty>
      ) : (
        <>
          <div className="toolbar">
            <input
              className="input toolbar-filter"
              type="search"
              aria-label="Filter"
              placeholder={`Filter ${noun}s…`}
              value={q}
              onChange={(e) => {
                setQ(e.target.value);
                setPage(0);
              }}
            />
            <span className="muted small">
              {dq.trim() ? `${rows.length} of ${loaded}` : `${total.toLocaleString()} in all`}
              {data.loading && " · refreshing…"}
            </span>
          </div>
          {rows.length === 0 ? (
            <Empty title="Nothing matches">No {noun}s contain “{dq}”.</Empty>
          ) : (
            <Table rows={pageOf(rows, page, PAGE)} columns={columns} rowKey={(r) => r.id ?? JSON.stringify(r)} onRow={openEdit} />
          )}
          <Pager page={page} size={PAGE} total={rows.length} onPage={setPage} />
          {total > FETCH && (
            // more than one fetch: page through them in blocks of FETCH
            <div className="pager">
              <span className="muted small">
                Showing {chunk * FETCH + 1}–{chunk * FETCH + loaded} of {total.toLocaleString()}; the filter searches these.
              </span>
              <Button small disabled={chunk === 0} onClick={() => (setChunk(chunk - 1), setPage(0))}>
                Previous {FETCH}
              </Button>
              <Button small disabled={(chunk + 1) * FETCH >= total} onClick={() => (setChunk(chunk + 1), setPage(0))}>
                Next {FETCH}
              </Button>
            </div>
          )}
        </>
      )}
      </div>
      {editing && (
        <EditModal
          def={def}
          initial={editing.value}
          isNew={editing.isNew}
          canEdit={canEdit}
          onClose={() => setEditing(null)}
          onDelete={() => {
            setDeleting(editing.value);
          }}
          onSaved={() => {
            setEditing(null);
            data.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title={`Delete ${noun}`}
          text={
            <>
              Delete the {noun} <strong>{label(deleting)}</strong>? This cannot be undone.
            </>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await api.del(`${def.item}/${encodeURIComponent(deleting.id ?? "")}`);
            toast(`${Noun} deleted`);
            setEditing(null);
            data.reload();
          }}
        />
      )}
    </Page>
  );
}

function EditModal<T extends Rec>(props: {
  def: EntityDef<T>;
  initial: T;
  isNew: boolean;
  canEdit: boolean;
  onClose: () => void;
  onSaved: () => void;
  onDelete: () => void;
}) {
  const { def } = props;
  const [value, setValue] = useState<T>(props.initial);
  const [tab, setTab] = useState("form");
  const [err, setErr] = useState<string>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [errorPath, setErrorPath] = useState("");
  const [invalid, setInvalidMap] = useState<Record<string, boolean>>({});
  const [busy, setBusy] = useState(false);
  const set = useCallback((patch: Partial<T>) => {
    setValue((v) => ({ ...v, ...patch }));
    // a field the user changes no longer shows the server's complaint about it
    setErrors((e) => {
      const keys = Object.keys(patch);
      const left = Object.entries(e).filter(([p]) => !keys.includes(topKey(p)));
      return left.length === Object.keys(e).length ? e : Object.fromEntries(left);
    });
  }, []);
  const setInvalid = useCallback((part: string, bad: boolean) => setInvalidMap((m) => (m[part] === bad ? m : { ...m, [part]: bad })), []);
  const anyInvalid = Object.values(invalid).some(Boolean);
  const noun = def.noun;

  const save = async () => {
    const local = Object.fromEntries(Object.entries(def.check?.(value) ?? {}).filter((e): e is [string, string] => !!e[1]));
    if (Object.keys(local).length) {
      setErrors(local);
      setErr("Please correct the marked fields.");
      setTab("form");
      return;
    }
    setBusy(true);
    setErr(undefined);
    setErrors({});
    setErrorPath("");
    try {
      await api.post(def.item, def.prepare ? def.prepare(value) : value);
      toast(`${noun[0].toUpperCase() + noun.slice(1)} saved`);
      props.onSaved();
    } catch (e) {
      const msg = e instanceof ApiError || e instanceof Error ? e.message : String(e);
      setErr(msg);
      if (e instanceof ApiError && e.status === 422) {
        setErrors(fieldErrors(msg));
        setErrorPath(splitError(msg).path);
      }
      setBusy(false);
    }
  };

  return (
    <Modal
      wide
      title={props.isNew ? `New ${noun}` : props.canEdit ? `Edit ${noun}` : `${noun[0].toUpperCase() + noun.slice(1)}`}
      onClose={props.onClose}
      footer={
        <div className="cfg-foot">
          {!props.isNew && props.canEdit && (
            <Button kind="danger" onClick={props.onDelete}>
              Delete
            </Button>
          )}
          <span className="grow" />
          <Button onClick={props.onClose}>{props.canEdit ? "Cancel" : "Close"}</Button>
          {props.canEdit && (
            <Button kind="primary" busy={busy} disabled={anyInvalid} onClick={save}>
              Save
            </Button>
          )}
        </div>
      }
    >
      <form
        className="cfg-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!anyInvalid) save();
        }}
      >
        <Tabs
          tabs={[
            { id: "form", label: "Form" },
            { id: "json", label: "JSON (advanced)" },
          ]}
          value={tab}
          onChange={setTab}
        />
        {def.formHelp?.(value)}
        {tab === "form" ? (
          <def.Form value={value} set={set} errors={errors} errorPath={errorPath} isNew={props.isNew} setInvalid={setInvalid} />
        ) : (
          <>
            <p className="muted small cfg-note">
              The whole record as the API stores it. Changes here show in the form and are saved with it.
            </p>
            <JsonEditor
              label="Record JSON"
              value={value}
              rows={20}
              onChange={(v) => {
                if (v && typeof v === "object" && !Array.isArray(v)) setValue(v as T);
              }}
              onValidity={(ok) => setInvalid("__record", !ok)}
            />
          </>
        )}
        {err && (
          <div className="cfg-server-error">
            <ErrorBox error={err} />
          </div>
        )}
        {/* Enter in a text field saves */}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}
