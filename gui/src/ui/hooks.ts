import { useCallback, useEffect, useRef, useState } from "react";
import { useSyncExternalStore } from "react";
import { getContext, getSession, onSessionChange } from "../api";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Runs `load` now and whenever `deps` or the data context change; the newest call wins. */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const ctx = useDataContext();
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    setError(undefined);
    loadRef.current(ac.signal).then(
      (d) => {
        if (!ac.signal.aborted) {
          setData(d);
          setLoading(false);
        }
      },
      (e: Error) => {
        if (!ac.signal.aborted) {
          setError(e);
          setLoading(false);
        }
      },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, ctx]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

export function useSession() {
  return useSyncExternalStore(onSessionChange, () => sessionKey(), () => "");
}
function sessionKey() {
  const s = getSession();
  return s ? s.token + "|" + s.roles.join(",") : "";
}
export function useDataContext() {
  return useSyncExternalStore(onSessionChange, getContext, getContext);
}

export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Mirrors a media query, e.g. whether the screen is phone-sized. */
export function useMedia(query: string): boolean {
  const [m, setM] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const fn = () => setM(mq.matches);
    mq.addEventListener("change", fn);
    return () => mq.removeEventListener("change", fn);
  }, [query]);
  return m;
}
