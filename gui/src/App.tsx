import { Suspense, useEffect, useState } from "react";
import { HashRouter, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router";
import { getSession, hasRole, logout, setContext } from "./api";
import { NAV } from "./nav";
import Login from "./pages/Login";
import { useDataContext, useSession } from "./ui/hooks";
import { Icon } from "./ui/icons";
import { ErrorBox, Loading } from "./ui/kit";
import { Toasts } from "./ui/toast";
import { Component, type ReactNode } from "react";

export default function App() {
  return (
    <HashRouter>
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route path="/*" element={<Shell />} />
      </Routes>
      <Toasts />
    </HashRouter>
  );
}

/** The logged-in frame: menu, top bar, and the page of the route. */
function Shell() {
  useSession();
  const ctx = useDataContext();
  const s = getSession();
  const loc = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [loc.pathname]);
  useEffect(() => {
    document.querySelector(".sidebar-nav .nav-link.active")?.scrollIntoView({ block: "nearest" });
  }, [loc.pathname]);
  useEffect(() => {
    if (!menuOpen) return;
    const h = (e: KeyboardEvent) => e.key === "Escape" && setMenuOpen(false);
    window.addEventListener("keydown", h);
    return () => window.removeEventListener("keydown", h);
  }, [menuOpen]);
  useIdleLogout();
  if (!s) return <Navigate to={`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  const routes = NAV.flatMap((sec) => sec.items).filter((i) => hasRole(s, i.roles));
  return (
    <div className={`shell ctx-${ctx}${menuOpen ? " menu-open" : ""}`}>
      <aside className="sidebar" aria-label="Main menu">
        <div className="sidebar-top">
          <div className="brand">
            <span className="brand-mark" aria-hidden />
            cdpd
          </div>
          <ContextSwitch />
        </div>
        <nav className="sidebar-nav">
          {NAV.map((sec) => {
            const items = sec.items.filter((i) => i.menu && hasRole(s, i.roles));
            if (!items.length) return null;
            return (
              <div key={sec.title} className="nav-section">
                {sec.title && <div className="nav-title">{sec.title}</div>}
                {items.map((i) => (
                  <NavLink key={i.path} to={i.path} end={i.path === "/"} className="nav-link">
                    <span className="nav-icon" aria-hidden>
                      {i.icon && <Icon name={i.icon} />}
                    </span>
                    {i.label}
                  </NavLink>
                ))}
              </div>
            );
          })}
        </nav>
        <UserBox />
      </aside>
      <div className="main">
        <header className="topbar">
          <button type="button" className="icon-btn menu-btn" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
            <Icon name="menu" size={22} />
          </button>
          <span className="brand brand-small">
            <span className="brand-mark" aria-hidden />
            cdpd
          </span>
          {ctx === "staging" && <span className="badge badge-warn">Staging</span>}
        </header>
        {menuOpen && <div className="scrim" onClick={() => setMenuOpen(false)} />}
        <main className="content">
          <Boundary key={loc.pathname}>
            <Suspense fallback={<Loading />}>
              <Routes>
                {routes.map((r) => (
                  <Route key={r.path} path={r.path} element={<r.page />} />
                ))}
                <Route path="*" element={<NotFound />} />
              </Routes>
            </Suspense>
          </Boundary>
        </main>
      </div>
    </div>
  );
}

function ContextSwitch() {
  const ctx = useDataContext();
  return (
    <div className="context-switch" role="radiogroup" aria-label="Data context">
      {(["production", "staging"] as const).map((c) => (
        <button
          key={c}
          type="button"
          role="radio"
          aria-checked={ctx === c}
          className={ctx === c ? "active" : ""}
          onClick={() => setContext(c)}
          title={c === "staging" ? "Work on staging: changes do not reach production until deployed" : "Work on production data"}
        >
          {c === "production" ? "Production" : "Staging"}
        </button>
      ))}
    </div>
  );
}

function UserBox() {
  const s = getSession()!;
  const nav = useNavigate();
  return (
    <div className="userbox">
      <NavLink to="/account" className="userbox-name" title="My account">
        <span className="avatar" aria-hidden>
          {s.username.slice(0, 1).toUpperCase()}
        </span>
        <span>
          <span className="userbox-email">{s.username}</span>
          <span className="muted small">{s.roles.join(", ")}</span>
        </span>
      </NavLink>
      <button
        type="button"
        className="icon-btn userbox-logout"
        aria-label="Log out"
        title="Log out"
        onClick={async () => {
          await logout();
          nav("/login");
        }}
      >
        <Icon name="logout" />
      </button>
    </div>
  );
}

/** Logs out when the token has run out without use (the server's --token-ttl). */
function useIdleLogout() {
  const nav = useNavigate();
  useEffect(() => {
    const t = setInterval(() => {
      if (!getSession() && localStorage.getItem("cdpd.session")) {
        localStorage.removeItem("cdpd.session");
        nav("/login?expired=1");
      }
    }, 15000);
    return () => clearInterval(t);
  }, [nav]);
}

function NotFound() {
  return (
    <section className="page">
      <ErrorBox error="There is no such page, or your role may not open it." />
    </section>
  );
}

class Boundary extends Component<{ children: ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (this.state.error)
      return (
        <section className="page">
          <ErrorBox error={this.state.error} retry={() => this.setState({ error: undefined })} />
        </section>
      );
    return this.props.children;
  }
}

