import { useSyncExternalStore } from "react";

// Short notices in the corner: "Saved", or what went wrong.
interface Toast {
  id: number;
  kind: "ok" | "error" | "info";
  text: string;
}
let toasts: Toast[] = [];
let next = 1;
const subs = new Set<() => void>();
function emit() {
  subs.forEach((f) => f());
}
export function toast(text: string, kind: Toast["kind"] = "ok") {
  const t = { id: next++, kind, text };
  toasts = [...toasts, t];
  emit();
  setTimeout(() => {
    toasts = toasts.filter((x) => x.id !== t.id);
    emit();
  }, kind === "error" ? 8000 : 3500);
}
export function toastError(e: unknown) {
  toast(e instanceof Error ? e.message : String(e), "error");
}
export function Toasts() {
  const list = useSyncExternalStore(
    (f) => {
      subs.add(f);
      return () => subs.delete(f);
    },
    () => toasts,
  );
  return (
    <div className="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
