import { FormEvent, useEffect, useState } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { api, getSession, login } from "../api";
import { Button, ErrorBox, Loading, TextField } from "../ui/kit";

/** Log in, or, on a new installation with no user yet, create the first administrator. */
export default function Login() {
  const [params] = useSearchParams();
  const nav = useNavigate();
  const [installed, setInstalled] = useState<boolean>();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [password2, setPassword2] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<{ users: boolean }>("/install").then(
      (r) => setInstalled(r.users),
      (e: Error) => setError(e.message),
    );
  }, []);
  const next = params.get("next") || "/";
  if (getSession()) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    if (installed === false && password !== password2) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    try {
      if (installed === false) await api.post("/install", { email, password, full_name: name || undefined });
      await login(email, password);
      nav(next, { replace: true });
    } catch (x) {
      setError((x as Error).message);
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit}>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden />
          cdpd
        </div>
        <p className="login-tagline muted">Customer data platform</p>
        {installed === undefined && !error ? (
          <Loading />
        ) : installed === false ? (
          <>
            <h1>Welcome</h1>
            <p className="muted login-lead">Nobody can log in yet. Create the first administrator of this installation.</p>
            <TextField label="Name" value={name} onChange={setName} placeholder="Ada Lovelace" autoComplete="name" />
            <TextField label="E-mail" type="email" value={email} onChange={setEmail} required autoFocus autoComplete="username" />
            <TextField label="Password" type="password" value={password} onChange={setPassword} required hint="At least 8 characters." autoComplete="new-password" />
            <TextField label="Repeat the password" type="password" value={password2} onChange={setPassword2} required autoComplete="new-password" />
            {error && <ErrorBox error={error} title="Could not create the administrator." />}
            <Button kind="primary" type="submit" busy={busy} className="btn-block">
              Create administrator
            </Button>
          </>
        ) : (
          <>
            <h1>Log in</h1>
            <p className="muted login-lead">
              {params.get("expired") ? "Your session ended after a while without use. Log in again." : "Welcome back. Use the e-mail and password an administrator gave you."}
            </p>
            <TextField label="E-mail" type="email" value={email} onChange={setEmail} required autoFocus autoComplete="username" />
            <TextField label="Password" type="password" value={password} onChange={setPassword} required autoComplete="current-password" />
            {error && <ErrorBox error={error} title="Could not log in." />}
            <Button kind="primary" type="submit" busy={busy} className="btn-block">
              Log in
            </Button>
          </>
        )}
      </form>
    </div>
  );
}
