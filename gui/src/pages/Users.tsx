// Maintenance → Users: who may log in, with which roles (admin only).
import { FormEvent, useId, useState } from "react";
import { api, getSession, type Role } from "../api";
import { useApi } from "../ui/hooks";
import { Async, Badge, Button, Confirm, Empty, Modal, Page, Pager, Table, TextField, Toggle } from "../ui/kit";
import { toast } from "../ui/toast";
import { ROLE_INFO, dateInputToTs, fieldErrors, tsToDateInput, userState, type User } from "../admin/helpers";
import { FormError } from "../admin/FormError";
import { RoleBadges } from "../admin/RoleBadges";
import "../admin/admin.css";

const SIZE = 25;

export default function Users() {
  const [page, setPage] = useState(0);
  const users = useApi((signal) => api.get<{ total: number; result: User[] }>(`/users/${page * SIZE}/${SIZE}`, { signal }), [page]);
  const [editing, setEditing] = useState<User | "new">();
  const [deleting, setDeleting] = useState<User>();
  const me = getSession()?.username.toLowerCase();

  return (
    <Page
      title="Users"
      subtitle="Who may log in to cdpd, and what each may do. Users are shared by production and staging."
      actions={
        <Button kind="primary" onClick={() => setEditing("new")}>
          New user
        </Button>
      }
    >
      <div className="adm-users">
        <Async value={users} empty={(d) => d.result.length === 0} emptyView={<Empty title="No users">Create one with “New user”.</Empty>}>
          {(d) => (
            <>
              <Table
                rows={d.result}
                rowKey={(u) => u.id}
                onRow={(u) => setEditing(u)}
                focusRows={false}
                columns={[
                  {
                    key: "email",
                    title: "E-mail",
                    render: (u) => (
                      <span className="adm-email">
                        {u.email}
                        {u.email.toLowerCase() === me && <span className="muted small"> (you)</span>}
                      </span>
                    ),
                  },
                  { key: "name", title: "Name", render: (u) => u.full_name || <span className="muted">—</span> },
                  {
                    key: "roles",
                    title: "Roles",
                    render: (u) => <RoleBadges roles={u.roles} />,
                  },
                  {
                    key: "state",
                    title: "State",
                    render: (u) => {
                      const s = userState(u);
                      return <Badge tone={s.tone}>{s.label}</Badge>;
                    },
                  },
                  {
                    key: "actions",
                    title: <span className="sr-only">Actions</span>,
                    render: (u) => (
                      // the row opens the editor too; the buttons keep it reachable by keyboard
                      <span className="adm-actions" onClick={(e) => e.stopPropagation()}>
                        <Button small aria-label={`Edit ${u.email}`} onClick={() => setEditing(u)}>
                          Edit
                        </Button>
                        <Button small kind="danger" aria-label={`Delete ${u.email}`} onClick={() => setDeleting(u)}>
                          Delete
                        </Button>
                      </span>
                    ),
                  },
                ]}
              />
              <Pager page={page} size={SIZE} total={d.total} onPage={setPage} />
            </>
          )}
        </Async>
      </div>
      {editing && (
        <UserForm
          user={editing === "new" ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            users.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete user"
          text={
            <>
              Delete <strong>{deleting.email}</strong>? They cannot log in any more and their sessions end at once.
              {deleting.email.toLowerCase() === me && " This is your own account: you will be logged out."}
            </>
          }
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await api.del(`/user/${encodeURIComponent(deleting.id)}`);
            toast(`Deleted ${deleting.email}`);
            if (page > 0 && users.data?.result.length === 1) setPage(page - 1);
            else users.reload();
          }}
        />
      )}
    </Page>
  );
}

function UserForm(props: { user?: User; onClose: () => void; onSaved: () => void }) {
  const u = props.user;
  const [email, setEmail] = useState(u?.email ?? "");
  const [name, setName] = useState(u?.full_name ?? "");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<Role[]>(u?.roles ?? ["marketer"]);
  const [disabled, setDisabled] = useState(u?.disabled ?? false);
  const [expires, setExpires] = useState(tsToDateInput(u?.expiration_timestamp));
  const [errors, setErrors] = useState<{ fields: Record<string, string>; form?: string }>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const formId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!roles.length) {
      setErrors({ fields: { roles: "Choose at least one role." } });
      return;
    }
    setBusy(true);
    setErrors({ fields: {} });
    const body: Record<string, unknown> = {
      email: email.trim(),
      full_name: name,
      roles,
      disabled,
      expiration_timestamp: dateInputToTs(expires),
    };
    // on edit an empty password keeps the current one
    if (password || !u) body.password = password;
    try {
      const saved = await api.post<User>(u ? `/user/${encodeURIComponent(u.id)}` : "/user", body);
      toast(u ? `Saved ${saved.email}` : `Created ${saved.email}`);
      props.onSaved();
    } catch (x) {
      setErrors(fieldErrors(x));
      setBusy(false);
    }
  };

  const f = errors.fields;
  return (
    <Modal
      title={u ? "Edit user" : "New user"}
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button kind="primary" type="submit" form={formId} busy={busy}>
            {u ? "Save" : "Create user"}
          </Button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <TextField label="E-mail" type="email" value={email} onChange={setEmail} error={f.email} required autoFocus={!u} />
        <TextField label="Full name" value={name} onChange={setName} error={f.full_name} />
        <TextField
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          error={f.password}
          required={!u}
          hint={
            u
              ? "Leave empty to keep the current password. A new one ends the user's sessions."
              : "8 characters or more, not the e-mail address."
          }
        />
        <RolesField value={roles} onChange={setRoles} error={f.roles} />
        <TextField
          label="Expires on"
          type="date"
          value={expires}
          onChange={setExpires}
          error={f.expiration_timestamp}
          hint="From this day on the user cannot log in. Empty: never expires."
        />
        <Toggle label="Disabled" checked={disabled} onChange={setDisabled} />
        <p className="field-hint adm-toggle-hint">A disabled user cannot log in, and their sessions end at once.</p>
        <FormError error={errors.form} />
      </form>
    </Modal>
  );
}

/** The four roles as checkboxes, each with what it may do. */
function RolesField(props: { value: Role[]; onChange: (r: Role[]) => void; error?: string }) {
  const id = useId();
  return (
    <fieldset className={`adm-roles${props.error ? " field-invalid" : ""}`}>
      <legend>Roles</legend>
      {ROLE_INFO.map(({ role, text }) => (
        <div className="adm-role" key={role}>
          <input
            type="checkbox"
            id={`${id}-${role}`}
            aria-describedby={`${id}-${role}-d`}
            checked={props.value.includes(role)}
            onChange={(e) =>
              props.onChange(e.target.checked ? ROLE_INFO.map((r) => r.role).filter((r) => r === role || props.value.includes(r)) : props.value.filter((r) => r !== role))
            }
          />
          <label htmlFor={`${id}-${role}`}>{role}</label>
          <span className="field-hint" id={`${id}-${role}-d`}>
            {text}
          </span>
        </div>
      ))}
      {props.error && <div className="field-error">{props.error}</div>}
    </fieldset>
  );
}
