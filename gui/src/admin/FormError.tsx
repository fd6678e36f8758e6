import { useEffect, useRef } from "react";
import { ErrorBox } from "../ui/kit";

/** The server's message about a form as a whole, scrolled into view: in a long modal it would
 * otherwise sit below the fold, and the user would see nothing happen. */
export function FormError({ error }: { error?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error) ref.current?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  }, [error]);
  if (!error) return null;
  return (
    <div className="adm-form-error" ref={ref}>
      <ErrorBox error={error} />
    </div>
  );
}
