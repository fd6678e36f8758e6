// My account: one's own name, password and saved preferences (every role).
import { FormEvent, useEffect, useState } from "react";
import { api } from "../api";
import { useApi } from "../ui/hooks";
import { Async, Button, Card, Confirm, Empty, Page, TextField } from "../ui/kit";
import { toast } from "../ui/toast";
import { fieldErrors, type User } from "../admin/helpers";
import { FormError } from "../admin/FormError";
import { RoleBadges } from "../admin/RoleBadges";
import "../admin/admin.css";

type Errors = { fields: Record<string, string>; form?: string };

export default function Account() {
  const me = useApi((signal) => api.get<User>("/user-account", { signal }), []);
  return (
    <Page title="My account" subtitle="Your name and password. Your e-mail and roles are set by an administrator.">
      <Async value={me}>
        {(u) => (
          <div className="grid grid-2 adm-account">
            <ProfileCard user={u} onSaved={(x) => me.setData(x)} />
            <PasswordCard />
            <PreferencesCard />
          </div>
        )}
      </Async>
    </Page>
  );
}

function ProfileCard({ user, onSaved }: { user: User; onSaved: (u: User) => void }) {
  const [name, setName] = useState(user.full_name);
  const [errors, setErrors] = useState<Errors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  useEffect(() => setName(user.full_name), [user.full_name]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({ fields: {} });
    try {
      const u = await api.post<User>("/user-account", { full_name: name });
      onSaved(u);
      toast("Saved your name");
    } catch (x) {
      setErrors(fieldErrors(x));
    }
    setBusy(false);
  };
  return (
    <Card title="Profile">
      <form onSubmit={submit}>
        <dl className="adm-dl">
          <dt>E-mail</dt>
          <dd className="adm-email">{user.email}</dd>
          <dt>Roles</dt>
          <dd>
            <RoleBadges roles={user.roles} />
          </dd>
        </dl>
        <TextField label="Full name" value={name} onChange={setName} error={errors.fields.full_name ?? errors.fields.name} />
        <FormError error={errors.form} />
        <Button kind="primary" type="submit" busy={busy} disabled={name === user.full_name}>
          Save name
        </Button>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const [old, setOld] = useState("");
  const [pw, setPw] = useState("");
  const [pw2, setPw2] = useState("");
  const [errors, setErrors] = useState<Errors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pw !== pw2) {
      setErrors({ fields: { password2: "The two new passwords differ." } });
      return;
    }
    setBusy(true);
    setErrors({ fields: {} });
    try {
      await api.post("/user-account", { old_password: old, password: pw });
      setOld("");
      setPw("");
      setPw2("");
      toast("Password changed. Your other sessions have ended.");
    } catch (x) {
      setErrors(fieldErrors(x));
    }
    setBusy(false);
  };
  const f = errors.fields;
  return (
    <Card title="Password">
      <form onSubmit={submit}>
        <TextField label="Current password" type="password" value={old} onChange={setOld} error={f.old_password} required />
        <TextField
          label="New password"
          type="password"
          value={pw}
          onChange={setPw}
          error={f.password}
          required
          hint="8 characters or more, not your e-mail address."
        />
        <TextField label="Confirm password" type="password" value={pw2} onChange={setPw2} error={f.password2} required />
        <p className="adm-note small">
          Changing the password logs you out everywhere else (other browsers and devices, API tokens); this window stays logged in.
        </p>
        <FormError error={errors.form} />
        <Button kind="primary" type="submit" busy={busy} disabled={!old || !pw || !pw2}>
          Change password
        </Button>
      </form>
    </Card>
  );
}

/** What the GUI remembers for you on the server (settings of screens); each can be forgotten. */
function PreferencesCard() {
  const prefs = useApi((signal) => api.get<Record<string, unknown>>("/user/preferences", { signal }), []);
  const [forget, setForget] = useState<string>();
  return (
    <Card title="Saved preferences">
      <Async
        value={prefs}
        empty={(d) => Object.keys(d).length === 0}
        emptyView={<Empty title="No preferences saved">Screens that remember your choices keep them here.</Empty>}
      >
        {(d) => (
          <ul className="adm-prefs">
            {Object.keys(d)
              .sort()
              .map((k) => (
                <li key={k}>
                  <code title={JSON.stringify(d[k])}>{k}</code>
                  <Button small kind="ghost" aria-label={`Forget ${k}`} onClick={() => setForget(k)}>
                    Forget
                  </Button>
                </li>
              ))}
          </ul>
        )}
      </Async>
      {forget && (
        <Confirm
          title="Forget preference"
          confirm="Forget"
          text={
            <>
              Forget the saved preference <code>{forget}</code>?
            </>
          }
          onClose={() => setForget(undefined)}
          onConfirm={async () => {
            const all = await api.del<Record<string, unknown>>(`/user/preference/${encodeURIComponent(forget)}`);
            prefs.setData(all && typeof all === "object" ? all : {});
            toast("Preference forgotten");
          }}
        />
      )}
    </Card>
  );
}
